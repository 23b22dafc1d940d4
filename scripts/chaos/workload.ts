/**
 * The chaos run's clients: half through the smart client (compiled
 * `createKvClient`), half through the coordinators' REST `/data/<key>`
 * (round robin), each doing seeded puts, gets and deletes on a small key
 * space so that keys are contended. Every operation is recorded with its
 * invocation and completion times (ms from the run's start) and an outcome
 * (scripts/chaos/outcome.ts). Bounded: operations per client and a pause
 * between them.
 */
import { createKvClient, isKvError, type KvClient } from '../../src/client/index.js';
import { shardForKey } from '../../src/common/key-hash.js';
import { SeededRng } from '../../src/raft/rng.js';
import type { HistoryOp, HistoryOpKind, HistoryOutcome } from './history.js';
import { sleep } from '../launch/wait-for.js';
import { dataRequest } from './data-request.js';
import { classifyFailedRead, classifyRestWrite, classifySmartWrite } from './outcome.js';

export interface WorkloadOptions {
  readonly seed: number;
  readonly clients: number;
  readonly keys: readonly string[];
  readonly coordinators: readonly { readonly host: string; readonly port: number }[];
  /** ms since the run's start. */
  readonly clock: () => number;
  readonly maxOpsPerClient: number;
  readonly minPauseMs: number;
  readonly maxPauseMs: number;
  /** One REST request, or one smart-client attempt, gives up after this. */
  readonly timeoutMs: number;
  /** A smart-client call with all its retries ends by then. */
  readonly deadlineMs: number;
}

interface OpRecord {
  client: number;
  op: HistoryOpKind;
  key: string;
  value: string | null;
  invoke: number;
  complete: number | null;
  outcome: HistoryOutcome;
}

/** Keys k0, k1, … until every shard has at least one and there are at least `min`: each shard's availability is measured. */
export function chooseKeys(shards: number, min: number, max = 1_000): string[] {
  const keys: string[] = [];
  const covered = new Set<number>();
  for (let i = 0; i < max && (covered.size < shards || keys.length < min); i++) {
    const key = `k${i}`;
    const shard = shardForKey(key, shards);
    if (covered.has(shard) && keys.length >= min) continue;
    covered.add(shard);
    keys.push(key);
  }
  return keys;
}

export class Workload {
  private readonly records: OpRecord[] = [];
  private stopped = false;
  private loops: Promise<void>[] = [];
  /** The one smart client the smart loops share. */
  private smart: KvClient | undefined;

  constructor(private readonly o: WorkloadOptions) {}

  /**
   * Clients 0 … n/2-1 use the smart client, the rest REST. The smart loops
   * share one KvClient, as an application's callers do: calls of two loops
   * made in the same turn reach a node as one batch, and the history checks
   * those too.
   */
  start(): void {
    const root = new SeededRng(this.o.seed ^ 0x5eed_c0de);
    const rngs = Array.from({ length: this.o.clients }, () => root.fork());
    // The client's retry jitter draws from its own stream: the ops chosen do not depend on how many retries there were.
    const jitter = root.fork();
    const smartLoops = Math.ceil(this.o.clients / 2);
    this.smart =
      smartLoops > 0
        ? createKvClient({
            coordinators: this.o.coordinators.map((c) => `${c.host}:${c.port}`),
            timeoutMs: this.o.timeoutMs,
            deadlineMs: this.o.deadlineMs,
            random: () => jitter.float(),
          })
        : undefined;
    rngs.forEach((rng, c) => this.loops.push(this.run(c, rng, c < smartLoops ? this.smart : undefined)));
  }

  /** Stops issuing operations and waits for those in flight (each bounded by its timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
    this.smart?.close();
  }

  get opCount(): number {
    return this.records.length;
  }

  /** The history so far, in invocation order. */
  history(): HistoryOp[] {
    return this.records.map((r) => ({ ...r }));
  }

  /** `kv`: the shared smart client for a smart loop; undefined for a REST loop. */
  private async run(client: number, rng: SeededRng, kv: KvClient | undefined): Promise<void> {
    let n = 0;
    for (let i = 0; i < this.o.maxOpsPerClient && !this.stopped; i++) {
      const x = rng.float();
      const op: HistoryOpKind = x < 0.5 ? 'put' : x < 0.85 ? 'get' : 'delete';
      const key = rng.pick(this.o.keys);
      const value = op === 'put' ? `c${client}-${++n}` : null;
      const rec: OpRecord = { client, op, key, value, invoke: this.o.clock(), complete: null, outcome: 'unknown' };
      this.records.push(rec);
      if (kv !== undefined) await this.smartOp(kv, rec);
      else await this.restOp(rec, i);
      await sleep(this.o.minPauseMs + rng.int(Math.max(1, this.o.maxPauseMs - this.o.minPauseMs)));
    }
  }

  private async smartOp(kv: KvClient, rec: OpRecord): Promise<void> {
    try {
      if (rec.op === 'get') rec.value = await kv.getText(rec.key);
      else if (rec.op === 'put') await kv.put(rec.key, rec.value!);
      else await kv.delete(rec.key);
      rec.outcome = 'ok';
    } catch (err) {
      if (rec.op === 'get') rec.outcome = classifyFailedRead();
      else if (isKvError(err)) rec.outcome = classifySmartWrite({ code: err.code, status: err.status, attempts: err.attempts });
      else rec.outcome = 'unknown';
    }
    rec.complete = this.o.clock();
  }

  private async restOp(rec: OpRecord, i: number): Promise<void> {
    const c = this.o.coordinators[(rec.client + i) % this.o.coordinators.length]!;
    const method = rec.op === 'get' ? 'GET' : rec.op === 'put' ? 'PUT' : 'DELETE';
    const a = await dataRequest(c.host, c.port, method, rec.key, rec.value ?? undefined, this.o.timeoutMs);
    rec.complete = this.o.clock();
    if (rec.op === 'get') {
      // 200 with the value, or a missing key (classifyAnswer reads a 404 NOT_FOUND of a key as done, null).
      rec.value = a.value;
      rec.outcome = a.status === 200 ? 'ok' : classifyFailedRead();
      return;
    }
    rec.outcome = classifyRestWrite(a.status, a.code, a.refused);
  }
}
