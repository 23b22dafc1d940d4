/**
 * Requests to the data nodes, coalesced (the smart client's, and a coordinator's `/data`): the requests
 * made in one turn of the event loop for the same node go to it as one
 * `POST /data-batch` exchange (src/data-wire/batch-frame.ts), and each
 * gets back exactly the answer it would have got alone. A lone request, and
 * one with a large value, goes as itself, so a single caller waits for
 * nothing. A node that does not know the batch path (an older version,
 * during an upgrade) is sent each request alone for a while
 * (singleOnlyMs), and then asked with a batch again: once it is upgraded,
 * its requests are batched again without restarting the caller.
 *
 * Under load many callers' requests meet in one turn, and one exchange
 * carries them all: the per-exchange cost (parsing, system calls, and with
 * TLS the records to seal and open) is paid once per batch.
 */
import type http from 'node:http';
import { DecodeError } from '../common/bytes.js';
import { DATA_BATCH_CONTENT_TYPE, DATA_BATCH_PATH, decodeDataBatchAnswers, encodeDataBatchRequests, MAX_DATA_BATCH_REQUESTS } from './batch-frame.js';
import { sendRaw, type HttpTarget, type RawRequest, type RawResult } from './http-exchange.js';

/** A value larger than this goes alone: batching saves nothing on it, and it would hold up the small ones. */
export const MAX_BATCHED_VALUE_BYTES = 64 * 1024;
/** Bytes of values in one batch at most; the rest go in the next. */
const MAX_BATCH_VALUE_BYTES = 1024 * 1024;
/** Version, count, and per answer its status and length: what an answer frame adds to the bodies. */
const ANSWER_FRAME_BYTES = 3;
const ANSWER_OVERHEAD_BYTES = 6;

export interface DataRequest extends RawRequest {
  readonly method: 'GET' | 'PUT' | 'DELETE';
}

interface Pending {
  readonly request: DataRequest;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (result: RawResult) => void;
  done: boolean;
}

interface Queue {
  readonly target: HttpTarget;
  entries: Pending[];
}

/** How long a node that refused the batch path gets single requests before it is asked with a batch again. */
export const DEFAULT_SINGLE_ONLY_MS = 60_000;

export interface KvBatcherOptions {
  readonly agent: http.Agent;
  /** Default DEFAULT_SINGLE_ONLY_MS. */
  readonly singleOnlyMs?: number;
  /** Monotonic milliseconds (default performance.now). */
  readonly nowMs?: () => number;
  readonly localAddress?: string | undefined;
  /** Sent with every exchange (the token); the same for all of this client's requests. */
  readonly headers: Readonly<Record<string, string>>;
}

export class KvBatcher {
  private readonly queues = new Map<string, Queue>();
  private flushScheduled = false;
  /** Nodes that answered the batch path with 404 or 405, and until when they get single requests. */
  private readonly singleOnly = new Map<string, number>();

  constructor(private readonly opts: KvBatcherOptions) {}

  /** The node's answer to `request`, alone or batched with others made in this turn. */
  send(target: HttpTarget, request: DataRequest): Promise<RawResult> {
    const key = `${target.host}:${target.port}`;
    if (this.isSingleOnly(key) || (request.body?.byteLength ?? 0) > MAX_BATCHED_VALUE_BYTES) return this.sendAlone(target, request);
    return new Promise((resolve) => {
      const entry: Pending = {
        request,
        done: false,
        resolve,
        timer: setTimeout(() => finish(entry, { kind: 'no-answer', reason: `no answer within ${request.timeoutMs} ms`, timedOut: true }), request.timeoutMs),
      };
      let queue = this.queues.get(key);
      if (queue === undefined) {
        queue = { target, entries: [] };
        this.queues.set(key, queue);
      }
      queue.entries.push(entry);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private isSingleOnly(key: string): boolean {
    const until = this.singleOnly.get(key);
    if (until === undefined) return false;
    if (this.now() < until) return true;
    this.singleOnly.delete(key);
    return false;
  }

  private now(): number {
    return this.opts.nowMs?.() ?? performance.now();
  }

  private sendAlone(target: HttpTarget, request: DataRequest): Promise<RawResult> {
    return sendRaw(this.opts.agent, target, { ...request, headers: this.opts.headers }, this.opts.localAddress);
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const [key, queue] of this.queues) {
      const entries = queue.entries;
      this.queues.delete(key);
      for (const chunk of chunks(entries)) {
        const sent = chunk.length === 1 ? this.resendAlone(queue.target, chunk) : this.sendBatch(key, queue.target, chunk);
        // Nothing above throws by design; if it ever did, its callers get an answer rather than the process an unhandled rejection.
        sent.catch((err: unknown) => {
          for (const e of chunk) finish(e, { kind: 'no-answer', reason: `the batch could not be sent: ${err instanceof Error ? err.message : String(err)}`, timedOut: false });
        });
      }
    }
  }

  private async sendBatch(key: string, target: HttpTarget, entries: Pending[]): Promise<void> {
    const body = encodeDataBatchRequests(entries.map((e) => ({ method: e.request.method, target: e.request.path, ...(e.request.body === undefined ? {} : { value: e.request.body }) })));
    let maxBodyBytes = ANSWER_FRAME_BYTES;
    let timeoutMs = 1;
    for (const e of entries) {
      maxBodyBytes += e.request.maxBodyBytes + ANSWER_OVERHEAD_BYTES;
      timeoutMs = Math.max(timeoutMs, e.request.timeoutMs);
    }
    const request: RawRequest = { method: 'POST', path: DATA_BATCH_PATH, body, contentType: DATA_BATCH_CONTENT_TYPE, timeoutMs, maxBodyBytes, headers: this.opts.headers };
    const result = await sendRaw(this.opts.agent, target, request, this.opts.localAddress);
    if (result.kind !== 'answer') {
      const reason = result.kind === 'no-answer' ? result : { kind: 'no-answer' as const, reason: `the batch answer was over ${result.limitBytes} bytes`, timedOut: false };
      for (const e of entries) finish(e, reason);
      return;
    }
    if (result.status === 404 || result.status === 405) {
      // A node without the batch path: every request again, alone, now and for a while.
      this.singleOnly.set(key, this.now() + (this.opts.singleOnlyMs ?? DEFAULT_SINGLE_ONLY_MS));
      await this.resendAlone(target, entries);
      return;
    }
    if (result.status === 413) {
      await this.resendAlone(target, entries);
      return;
    }
    if (result.status !== 200) {
      // Refused as a whole (credentials, overload, a frame this node cannot read): each request gets that answer.
      for (const e of entries) finish(e, result);
      return;
    }
    let answers;
    try {
      answers = decodeDataBatchAnswers(result.body, entries.length);
    } catch (err) {
      const reason = err instanceof DecodeError ? err.message : String(err);
      for (const e of entries) finish(e, { kind: 'no-answer', reason: `unreadable batch answer from ${key}: ${reason}`, timedOut: false });
      return;
    }
    entries.forEach((e, i) => {
      const { status, body: bytes } = answers[i]!;
      const success = status >= 200 && status < 300;
      if (success && bytes.length > e.request.maxBodyBytes) finish(e, { kind: 'too-large', status, limitBytes: e.request.maxBodyBytes });
      else finish(e, { kind: 'answer', status, body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
    });
  }

  private async resendAlone(target: HttpTarget, entries: Pending[]): Promise<void> {
    await Promise.all(
      entries.map(async (e) => {
        if (!e.done) finish(e, await this.sendAlone(target, e.request));
      }),
    );
  }
}

function finish(entry: Pending, result: RawResult): void {
  if (entry.done) return;
  entry.done = true;
  clearTimeout(entry.timer);
  entry.resolve(result);
}

/** The entries in batches of at most MAX_DATA_BATCH_REQUESTS requests and MAX_BATCH_VALUE_BYTES of values (one always fits). */
function chunks(entries: Pending[]): Pending[][] {
  const out: Pending[][] = [];
  let current: Pending[] = [];
  let bytes = 0;
  for (const e of entries) {
    const size = e.request.body?.byteLength ?? 0;
    if (current.length > 0 && (current.length === MAX_DATA_BATCH_REQUESTS || bytes + size > MAX_BATCH_VALUE_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(e);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}
