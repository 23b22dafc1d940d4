/** What `createKvClient` accepts, and the defaults it fills in. */
import { parseAddresses } from './addresses.js';

export interface KvBackoff {
  /** The first retry waits about this long; doubled per retry, with jitter. Default 50. */
  readonly baseMs?: number;
  /** No single wait is longer. Default 1000. */
  readonly capMs?: number;
}

export interface KvClientOptions {
  /** Coordinator API addresses, `host:port`; the routing table is read from any of them. */
  readonly coordinators: readonly string[];
  /** The source address of every data-path connection (DESIGN.md §1: each process dials from its own host). */
  readonly localAddress?: string;
  /** How long one attempt (one request to a node, one table read) may take. Default 5000. */
  readonly timeoutMs?: number;
  /** Attempts of one call in all, the first included. Default 5. */
  readonly maxAttempts?: number;
  readonly backoff?: KvBackoff;
  /** One call, with every retry and refresh, ends by then at the latest. Default 10000. */
  readonly deadlineMs?: number;
  /** Connections kept per data node. Default 256. */
  readonly maxSocketsPerNode?: number;
  /** The largest value an answer may carry before it is refused unread. Default 1 GiB (the most a cluster can be set to). */
  readonly maxValueBytes?: number;
  /** The jitter's source; tests pass a fixed one. */
  readonly random?: () => number;
  /**
   * An API token: the routing-table reads need `reader` on the coordinators,
   * and the data nodes check it too (`reader` for gets, `writer` for puts
   * and deletes).
   */
  readonly token?: string;
}

export interface KvSettings {
  readonly coordinators: readonly string[];
  readonly token: string | undefined;
  readonly localAddress: string | undefined;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
  readonly deadlineMs: number;
  readonly maxSocketsPerNode: number;
  readonly maxValueBytes: number;
  readonly random: () => number;
}

export const KV_DEFAULT_TIMEOUT_MS = 5_000;
export const KV_DEFAULT_MAX_ATTEMPTS = 5;
export const KV_DEFAULT_BACKOFF_BASE_MS = 50;
export const KV_DEFAULT_BACKOFF_CAP_MS = 1_000;
export const KV_DEFAULT_DEADLINE_MS = 10_000;
const DEFAULT_MAX_SOCKETS = 256;
const MAX_VALUE_BYTES = 1024 * 1024 * 1024;
/** Bounds that keep a typo from becoming an endless call or an unbounded pool. */
const MAX_ATTEMPTS_LIMIT = 100;
const MAX_WAIT_MS = 10 * 60_000;

function bounded(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new TypeError(`torua kv client: ${name}: expected a number from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

export function resolveKvSettings(options: KvClientOptions): KvSettings {
  const backoffBaseMs = bounded('backoff.baseMs', options.backoff?.baseMs, KV_DEFAULT_BACKOFF_BASE_MS, 0, MAX_WAIT_MS);
  if (options.localAddress !== undefined && (typeof options.localAddress !== 'string' || options.localAddress === '')) {
    throw new TypeError(`torua kv client: localAddress: expected an IP address, got ${JSON.stringify(options.localAddress)}`);
  }
  return {
    coordinators: parseAddresses(options.coordinators),
    localAddress: options.localAddress,
    token: options.token,
    timeoutMs: bounded('timeoutMs', options.timeoutMs, KV_DEFAULT_TIMEOUT_MS, 1, MAX_WAIT_MS),
    maxAttempts: Math.floor(bounded('maxAttempts', options.maxAttempts, KV_DEFAULT_MAX_ATTEMPTS, 1, MAX_ATTEMPTS_LIMIT)),
    backoffBaseMs,
    backoffCapMs: Math.max(backoffBaseMs, bounded('backoff.capMs', options.backoff?.capMs, KV_DEFAULT_BACKOFF_CAP_MS, 0, MAX_WAIT_MS)),
    deadlineMs: bounded('deadlineMs', options.deadlineMs, KV_DEFAULT_DEADLINE_MS, 1, MAX_WAIT_MS),
    maxSocketsPerNode: Math.floor(bounded('maxSocketsPerNode', options.maxSocketsPerNode, DEFAULT_MAX_SOCKETS, 1, 65_536)),
    maxValueBytes: Math.floor(bounded('maxValueBytes', options.maxValueBytes, MAX_VALUE_BYTES, 1, MAX_VALUE_BYTES)),
    random: options.random ?? Math.random,
  };
}
