/**
 * `createKvClient`: the smart client of the data path (DESIGN.md §6). It
 * keeps the routing table read from any coordinator, hashes each key to its
 * shard, and sends the request straight to the shard's primary with the
 * epoch it routed by (`?epoch=N`), so a node that has moved on refuses it
 * rather than serving from a stale assignment. On an answer that says the
 * table moved on (STALE_EPOCH, NOT_PRIMARY), a node that cannot serve now
 * (NO_LEASE, UNAVAILABLE) or no answer at all, it re-reads the table
 * linearizably and tries again: a bounded number of attempts with capped,
 * jittered backoff, all within one deadline. A retry goes at once when the
 * fresh table routes the key elsewhere, after a backoff when it does not.
 *
 * PUT and DELETE are safe to repeat after a lost answer: they set the key
 * to the same state again.
 */
import type http from 'node:http';
import { keyProblem } from '../common/data-key.js';
import { backoffDelayMs, sleep } from '../common/backoff.js';
import { createClusterClient } from './create-client.js';
import { describeClientError, errorCodeOf, reachedNoReplica } from './errors.js';
import { classifyAnswer, type KvMethod, type KvOutcome } from './kv-answer.js';
import { KvError, type KvAttempt } from './kv-error.js';
import { KvBatcher } from '../data-wire/batcher.js';
import { createKvAgent } from '../data-wire/http-exchange.js';
import { resolveKvSettings, type KvClientOptions, type KvSettings } from './kv-options.js';
import { authorizationHeaders } from './options.js';
import { RoutingCache, type RoutingSnapshot, type ShardRoute, type TableSource } from './kv-routing.js';

export interface KvClient {
  /** The value, or null when the key does not exist. */
  get(key: string): Promise<Uint8Array | null>;
  /** The value as UTF-8 text, or null when the key does not exist. */
  getText(key: string): Promise<string | null>;
  /** Resolves once the primary and every in-sync replica stored it. A string is stored as its UTF-8 bytes. */
  put(key: string, value: Uint8Array | string): Promise<void>;
  /** Resolves once deleted (also when there was no such key). */
  delete(key: string): Promise<void>;
  /** Reads the routing table again, linearizably. */
  refresh(): Promise<void>;
  /** Closes the data-path connections; later calls fail. */
  close(): void;
}

export interface KvClientModules {
  /** Where the routing table comes from; default: the coordinators through createClusterClient. */
  readonly tableSource?: TableSource;
  readonly now?: () => number;
}

/** Table reads retry inside the cluster client too; kept low so a KV call's own attempts and deadline decide. */
const TABLE_READ_RETRIES = 2;
/**
 * One table read from one replica is given up after this (or the client's
 * timeout, if shorter): a linearizable read takes a heartbeat round, and a
 * leader that went silent (paused, cut off) must cost the writers waiting
 * for the table a second, not the whole attempt timeout, before another
 * replica is asked.
 */
const TABLE_READ_ATTEMPT_MS = 1_000;

function clusterTableSource(settings: KvSettings): TableSource {
  const client = createClusterClient({
    coordinators: settings.coordinators,
    timeoutMs: Math.min(settings.timeoutMs, TABLE_READ_ATTEMPT_MS),
    maxRetries: TABLE_READ_RETRIES,
    backoffMs: settings.backoffBaseMs,
    maxBackoffMs: settings.backoffCapMs,
    random: settings.random,
    ...(settings.localAddress === undefined ? {} : { localAddress: settings.localAddress }),
    ...(settings.token === undefined ? {} : { token: settings.token }),
  });
  return async (consistency) => {
    const [shards, nodes] = await Promise.all([client.shards.list.query({ consistency }), client.nodes.list.query({ consistency })]);
    return { shards: shards.shards, nodes: nodes.nodes };
  };
}

/** `p`, or a rejection once `ms` have passed. */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no routing table within ${Math.round(ms)} ms`)), Math.max(0, ms));
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

const sameRoute = (a: ShardRoute, b: ShardRoute): boolean => a.epoch === b.epoch && a.primary === b.primary;
const decoder = new TextDecoder();

/** A failed attempt, and what the next one needs to know. */
interface Failure {
  readonly attempt: KvAttempt;
  readonly status: number;
  readonly details: Readonly<Record<string, unknown>>;
  /** The table it was routed by (0: none): a newer one answers it. */
  readonly generation: number;
  /** The route it took, if it got that far. */
  readonly route: ShardRoute | undefined;
  /** It ran out of time because the call's deadline came, not its own timeout: its "no answer" says little. */
  readonly cutByDeadline?: boolean;
}

class SmartKvClient implements KvClient {
  private readonly routing: RoutingCache;
  private readonly agent: http.Agent;
  private readonly batcher: KvBatcher;
  private readonly now: () => number;
  private closed = false;

  constructor(
    private readonly settings: KvSettings,
    modules: KvClientModules,
  ) {
    this.now = modules.now ?? (() => performance.now());
    this.routing = new RoutingCache(modules.tableSource ?? clusterTableSource(settings));
    this.agent = createKvAgent(settings.maxSocketsPerNode, settings.localAddress);
    this.batcher = new KvBatcher({ agent: this.agent, localAddress: settings.localAddress, headers: authorizationHeaders(settings.token) });
  }

  async get(key: string): Promise<Uint8Array | null> {
    return this.call('GET', key, undefined);
  }

  async getText(key: string): Promise<string | null> {
    const value = await this.call('GET', key, undefined);
    return value === null ? null : decoder.decode(value);
  }

  async put(key: string, value: Uint8Array | string): Promise<void> {
    const body = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    if (!(body instanceof Uint8Array)) {
      throw new KvError({ code: 'INVALID_INPUT', status: 0, key, message: `PUT ${JSON.stringify(key)}: value: expected a Uint8Array or a string, got ${typeof value}` });
    }
    if (body.byteLength > this.settings.maxValueBytes) {
      const message = `PUT ${JSON.stringify(key)}: value: ${body.byteLength} bytes is more than the client's maxValueBytes (${this.settings.maxValueBytes})`;
      throw new KvError({ code: 'PAYLOAD_TOO_LARGE', status: 0, key, message, details: { limitBytes: this.settings.maxValueBytes, sizeBytes: body.byteLength } });
    }
    await this.call('PUT', key, body);
  }

  async delete(key: string): Promise<void> {
    await this.call('DELETE', key, undefined);
  }

  async refresh(): Promise<void> {
    this.checkOpen();
    await this.routing.refresh(this.routing.current?.generation ?? 0);
  }

  close(): void {
    this.closed = true;
    this.agent.destroy();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('torua kv client: closed');
  }

  private async call(method: KvMethod, key: string, body: Uint8Array | undefined): Promise<Buffer | null> {
    this.checkOpen();
    const problem = keyProblem(key);
    if (problem !== undefined) throw new KvError({ code: 'INVALID_INPUT', status: 0, key: String(key), message: `${method} ${JSON.stringify(key)}: ${problem}` });
    const s = this.settings;
    const startedAtMs = this.now();
    const deadlineMs = startedAtMs + s.deadlineMs;
    const failures: Failure[] = [];
    for (let n = 1; n <= s.maxAttempts; n++) {
      const last = failures.at(-1);
      let table: RoutingSnapshot | undefined;
      try {
        table = await this.tableFor(last, deadlineMs);
      } catch (err) {
        const attempt = { target: 'coordinators', code: errorCodeOf(err) ?? 'UNAVAILABLE', description: describeClientError(err), reachedNoCoordinator: reachedNoReplica(err) };
        failures.push({ attempt, status: 0, details: {}, route: undefined, generation: this.routing.current?.generation ?? 0 });
        if (n === s.maxAttempts || !(await this.pause(n, deadlineMs))) break;
        continue;
      }
      const route = table.shardOf(key);
      // The fresh table sends this elsewhere: go now. The same route again: give the cluster a moment.
      if (last?.route !== undefined && sameRoute(last.route, route) && !(await this.pause(n - 1, deadlineMs))) break;
      const outcome = await this.attempt(method, key, body, table, route, deadlineMs);
      if (outcome.kind === 'done') return outcome.value;
      const target = this.describeTarget(table, route);
      if (outcome.kind === 'final') {
        throw new KvError({ code: outcome.code, status: outcome.status, key, message: `${method} ${JSON.stringify(key)}: ${outcome.message}`, details: outcome.details });
      }
      const attempt = { target, code: outcome.code, description: `${outcome.code}: ${outcome.message}` };
      const cutByDeadline = outcome.code === 'TIMEOUT' && outcome.status === 0 && this.now() >= deadlineMs;
      failures.push({ attempt, status: outcome.status, details: outcome.details, route, generation: table.generation, cutByDeadline });
      if (this.now() >= deadlineMs) break;
    }
    throw this.exhausted(method, key, failures, startedAtMs);
  }

  private tableFor(last: Failure | undefined, deadlineMs: number): Promise<RoutingSnapshot> | RoutingSnapshot {
    const current = this.routing.current;
    if (last === undefined && current !== undefined) return current;
    const read = last === undefined ? this.routing.table() : this.routing.refresh(last.generation);
    return within(read, deadlineMs - this.now());
  }

  /** Waits the backoff of retry `retry` (bounded by the deadline); false when no time is left for another attempt. */
  private async pause(retry: number, deadlineMs: number): Promise<boolean> {
    const s = this.settings;
    const remaining = deadlineMs - this.now();
    if (remaining <= 0) return false;
    const delayMs = backoffDelayMs(retry, s.backoffBaseMs, s.backoffCapMs, s.random);
    await sleep(Math.min(delayMs, remaining));
    return this.now() < deadlineMs;
  }

  private async attempt(
    method: KvMethod,
    key: string,
    body: Uint8Array | undefined,
    table: RoutingSnapshot,
    route: ShardRoute,
    deadlineMs: number,
  ): Promise<KvOutcome> {
    const unavailable = (message: string): KvOutcome => ({ kind: 'retry', code: 'UNAVAILABLE', status: 0, message, details: { shard: route.shard } });
    if (route.primary === null) return unavailable(`shard ${route.shard} has no primary`);
    const node = table.node(route.primary);
    if (node === undefined) return unavailable(`node ${route.primary}, primary of shard ${route.shard}, has no address in the table`);
    const timeoutMs = Math.max(1, Math.min(this.settings.timeoutMs, deadlineMs - this.now()));
    const path = `/data/${encodeURIComponent(key)}?epoch=${route.epoch}`;
    const request = { method, path, timeoutMs, maxBodyBytes: this.settings.maxValueBytes, ...(body === undefined ? {} : { body }) };
    return classifyAnswer(method, await this.batcher.send(node, request));
  }

  private describeTarget(table: RoutingSnapshot, route: ShardRoute): string {
    const node = route.primary === null ? undefined : table.node(route.primary);
    return node === undefined ? `shard ${route.shard}` : `${node.id} ${node.address} (shard ${route.shard}, epoch ${route.epoch})`;
  }

  private exhausted(method: KvMethod, key: string, failures: readonly Failure[], startedAtMs: number): KvError {
    const last = [...failures].reverse().find((f) => f.cutByDeadline !== true) ?? failures.at(-1);
    const lastByTarget = new Map<string, string>();
    for (const f of failures) lastByTarget.set(f.attempt.target, f.attempt.description);
    const detail = [...lastByTarget].map(([target, d]) => `${target}: ${d}`).join('; ');
    const n = failures.length;
    const seconds = ((this.now() - startedAtMs) / 1_000).toFixed(1);
    return new KvError({
      code: last?.attempt.code ?? 'TIMEOUT',
      status: last?.status ?? 0,
      key,
      message: `${method} ${JSON.stringify(key)}: gave up after ${n} attempt${n === 1 ? '' : 's'} in ${seconds} s (${detail || 'no time left'})`,
      details: last?.details ?? {},
      attempts: failures.map((f) => f.attempt),
      retriesExhausted: true,
    });
  }
}

export function createKvClient(options: KvClientOptions, modules: KvClientModules = {}): KvClient {
  return new SmartKvClient(resolveKvSettings(options), modules);
}
