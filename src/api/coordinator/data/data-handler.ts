/**
 * `GET/PUT/DELETE /data/<key>` on every coordinator (DESIGN.md §6, §7): the
 * request goes on to the primary of the key's shard, as this replica's table
 * names it, and the primary's answer comes back as it is (200 with the raw
 * value, 204, or the node's error with its code and status).
 *
 * When the table was out of date (the node answers STALE_EPOCH or
 * NOT_PRIMARY, or does not answer at all), the table is read again
 * linearizably and the request retried, a few times at most. The data path
 * stays lean: no tRPC, no schema on the body. Requests for one node that
 * arrive in the same turn of the event loop go to it as one batch
 * (src/data-wire/batcher.ts), each answered as it would be alone.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CoordinatorService } from '../../../coordinator/service.js';
import { ClusterError, ClusterErrorCode } from '../../../errors/index.js';
import type { Logger, Metrics } from '../../../observability/index.js';
import { dataKeyOf, requestTarget, DATA_PREFIX } from '../../datanode/request-target.js';
import { sendErrorAnswer } from '../../http/error-answer.js';
import { HttpError, HttpErrorCode } from '../errors/http-error.js';
import type { Exchange } from '../../http/exchange.js';
import { hasBody } from '../../http/json-body.js';
import { readBody } from '../../http/read-body.js';
import { requestMethod } from '../../http/route-match.js';
import { sleep } from '../../../common/backoff.js';
import { checkQuery } from '../rest-input.js';
import { primaryRoute } from './primary-route.js';
import { KvBatcher, type DataRequest } from '../../../data-wire/batcher.js';
import { createKvAgent, httpTargetOf, type RawResult } from '../../../data-wire/http-exchange.js';

export interface DataHandlerOptions {
  /** Outgoing connections dial from this address. */
  readonly localAddress?: string | undefined;
  /** One exchange with a node, answer included (default 10 s: a write waits for its replicas). */
  readonly timeoutMs?: number;
  /** Connections kept to each node (default 128). */
  readonly maxSocketsPerNode?: number;
  /** Shown to the nodes (`Bearer <internal token>` when the cluster has auth). */
  readonly authorization?: string | undefined;
}

export interface DataHandlerModules {
  readonly service: CoordinatorService;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export interface DataHandler {
  handle(req: IncomingMessage, res: ServerResponse, exchange: Exchange): Promise<void>;
  /** Closes the connections kept to the nodes. */
  close(): void;
}

export const DATA_ROUTE = '/data/*key';
const METHODS = ['GET', 'PUT', 'DELETE'] as const;
const MAX_ATTEMPTS = 3;
/** Before the second and third attempt: long enough for a commit to apply, short for a client. */
const BACKOFF_MS: readonly number[] = [10, 50];
const LAST_BACKOFF_MS = 50;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_SOCKETS = 128;

/** Whether a request target is the data path's (decided on the raw target: URL parsing would resolve `..` in keys). */
export function isDataTarget(url: string | undefined): boolean {
  const { rawPath } = requestTarget(url);
  return rawPath === '/data' || rawPath.startsWith(DATA_PREFIX);
}

type Method = DataRequest['method'];

/** A node's answer as this route relays it, or why there was none. */
type NodeAnswer =
  | { readonly kind: 'answer'; readonly status: number; readonly body: Buffer; readonly code: string | undefined }
  /** No answer at all (refused, reset, unreachable): nothing is known to have happened. */
  | { readonly kind: 'unreachable'; readonly why: string };

function errorCodeOf(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === 'string' ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}

/** The node's answers after which a fresher table may route elsewhere. */
function retryable(answer: NodeAnswer): boolean {
  if (answer.kind === 'unreachable') return true;
  return answer.code === ClusterErrorCode.StaleEpoch || answer.code === ClusterErrorCode.NotPrimary;
}

function methodOf(req: IncomingMessage): Method {
  const method = requestMethod(req);
  const known = METHODS.find((m) => m === method);
  if (known === undefined) {
    throw new HttpError(HttpErrorCode.MethodNotAllowed, `${method} is not allowed on /data/<key> (allowed: ${METHODS.join(', ')})`, { allowed: [...METHODS] });
  }
  return known;
}

export function createDataHandler(opts: DataHandlerOptions, modules: DataHandlerModules): DataHandler {
  const { service, logger, metrics } = modules;
  const agent = createKvAgent(opts.maxSocketsPerNode ?? DEFAULT_MAX_SOCKETS, opts.localAddress, ['node']);
  const batcher = new KvBatcher({ agent, localAddress: opts.localAddress, headers: opts.authorization === undefined ? {} : { Authorization: opts.authorization } });
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  /** One exchange with the primary at `address`; TIMEOUT (not retried: a write may still take effect) when it did not answer in time. */
  async function exchange(address: string, method: Method, key: string, epoch: number, body: Buffer | undefined, maxValueBytes: number): Promise<NodeAnswer> {
    const target = httpTargetOf(address);
    if (target === undefined) return { kind: 'unreachable', why: `no host:port in the address ${JSON.stringify(address)}` };
    const request: DataRequest = { method, path: `/data/${encodeURIComponent(key)}?epoch=${epoch}`, timeoutMs, maxBodyBytes: maxValueBytes, ...(body === undefined ? {} : { body }) };
    const result: RawResult = await batcher.send(target, request);
    if (result.kind === 'answer') return { kind: 'answer', status: result.status, body: result.body, code: result.status >= 400 ? errorCodeOf(result.body) : undefined };
    if (result.kind === 'too-large') {
      // A value stored before the limit was lowered: another attempt would meet it again.
      const why = `the value's answer from ${address} is over the cluster's value limit of ${result.limitBytes} bytes (was the limit lowered after it was stored?)`;
      throw new ClusterError({ code: ClusterErrorCode.Unavailable, reason: 'value over the current limit' }, why);
    }
    if (!result.timedOut) return { kind: 'unreachable', why: result.reason };
    throw new ClusterError(
      { code: ClusterErrorCode.Timeout, operation: `${method} of a key on ${address}`, timeoutMs },
      `the primary at ${address} did not answer ${method} within ${timeoutMs} ms; a write may still take effect`,
    );
  }

  /** Sends the request to the primary, re-reading the table and retrying when it was out of date; the last answer wins. */
  async function forward(method: Method, key: string, body: Buffer | undefined): Promise<NodeAnswer> {
    let state = (await service.read('stale')).state;
    let answer: NodeAnswer | undefined;
    for (let attempt = 1; ; attempt++) {
      let route;
      try {
        route = primaryRoute(state, key);
      } catch (e) {
        // A follower's table may be behind the leader's: one fresh look before answering "no primary".
        if (attempt > 1 || !(e instanceof ClusterError)) throw e;
        state = (await service.read('linearizable')).state;
        route = primaryRoute(state, key);
      }
      answer = await exchange(route.address, method, key, route.epoch, body, state.config.settings.maxValueBytes);
      if (!retryable(answer) || attempt >= MAX_ATTEMPTS) return answer;
      logger.debug('data request retried on a fresh table', {
        shard: route.shard,
        primary: route.primary,
        epoch: route.epoch,
        attempt,
        answer: answer.kind === 'answer' ? answer.code : answer.why,
      });
      await sleep(BACKOFF_MS[attempt - 1] ?? LAST_BACKOFF_MS);
      state = (await service.read('linearizable')).state;
    }
  }

  function relay(res: ServerResponse, answer: NodeAnswer, headers: Record<string, string>): void {
    if (answer.kind === 'unreachable') throw new ClusterError({ code: ClusterErrorCode.Unavailable, reason: `primary unreachable: ${answer.why}`, retryAfterMs: 100 }, `the primary could not be reached: ${answer.why}`);
    if (answer.code !== undefined) metrics.http.errors.inc({ code: answer.code });
    const type = answer.status >= 400 ? 'application/json; charset=utf-8' : answer.status === 204 ? undefined : 'application/octet-stream';
    res.writeHead(answer.status, { ...headers, ...(type === undefined ? {} : { 'Content-Type': type }), 'Content-Length': answer.body.length, 'Cache-Control': 'no-store' });
    res.end(answer.body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, exchange: Exchange): Promise<void> {
    exchange.route = DATA_ROUTE;
    let bodyRead = false;
    try {
      const method = methodOf(req);
      const target = requestTarget(req.url);
      const key = dataKeyOf(target.rawPath === '/data' ? DATA_PREFIX : target.rawPath);
      // `?stale` and `?epoch` are the smart client's business: this route routes by the table itself.
      checkQuery(target.query, []);
      let body: Buffer | undefined;
      if (method === 'PUT') {
        body = await readBody(req, (await service.read('stale')).state.config.settings.maxValueBytes);
        bodyRead = true;
        exchange.receivedBytes = body.length;
      }
      const answer = await forward(method, key, body);
      // A body this route does not read is not drained: the connection closes after the answer.
      relay(res, answer, !bodyRead && hasBody(req) ? { Connection: 'close' } : {});
    } catch (err) {
      sendErrorAnswer(req, res, err, { route: DATA_ROUTE, bodyRead, logger, metrics });
    }
  }

  return { handle, close: () => agent.destroy() };
}
