/** What `createClusterClient` accepts, and the defaults it fills in. */
import { processTls } from '../tls/process-tls.js';
import { createClientAgent } from '../tls/web.js';
import { parseAddresses } from './addresses.js';
import { agentFetch } from './node-fetch.js';

export interface ClusterClientOptions {
  /** Coordinator API addresses, `host:port` (the cluster file's `host` and `apiPort`). */
  readonly coordinators: readonly string[];
  /**
   * How long one attempt may take before the client gives up on that replica
   * and tries the next. Default 6000: longer than a replica's own proposal
   * timeout (5 s), so that its TIMEOUT answer, which says the write may
   * still take effect, arrives rather than a guess of ours. A call may set
   * its own with `{ context: { timeoutMs } }` (membership changes take longer).
   */
  readonly timeoutMs?: number;
  /** Attempts after the first, over all replicas together. Default 8. Per call: `{ context: { maxRetries } }`. */
  readonly maxRetries?: number;
  /** The first retry's backoff; doubled per retry up to `maxBackoffMs`, with jitter. Default 50. */
  readonly backoffMs?: number;
  /** Default 1000. */
  readonly maxBackoffMs?: number;
  /**
   * How long a leader found is trusted before the client checks again, in
   * the background, whether it still leads (a leadership transfer leaves
   * the old leader answering as a follower). Default 5000.
   */
  readonly leaderRecheckMs?: number;
  /** The jitter's source; tests pass a fixed one. */
  readonly random?: () => number;
  /**
   * The source address of the client's connections (a data node dials from
   * its own host, DESIGN.md §1, so that a packet filter can cut it off).
   * Unset: the system picks. Event subscriptions (SSE) always let it pick.
   */
  readonly localAddress?: string;
  /** An API token (`torua token create`), sent as `Authorization: Bearer …` on every call, when the cluster has `auth`. */
  readonly token?: string;
}

/** What httpLink is given to send with. */
export type LinkFetch = ReturnType<typeof agentFetch>;

export interface ClientSettings {
  readonly coordinators: readonly string[];
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly leaderRecheckMs: number;
  /** Health probes are answered locally by every replica: a replica that takes longer is as good as down. */
  readonly probeTimeoutMs: number;
  readonly random: () => number;
  /** undefined: the global fetch. */
  readonly fetch: LinkFetch | undefined;
  /** Sent with every request: the Authorization header when a token was given. */
  readonly headers: Readonly<Record<string, string>>;
}

/** Answers of the coordinator API are small; a longer one is cut off rather than buffered. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

export const DEFAULT_TIMEOUT_MS = 6_000;
export const DEFAULT_MAX_RETRIES = 8;
export const DEFAULT_BACKOFF_MS = 50;
export const DEFAULT_MAX_BACKOFF_MS = 1_000;
export const DEFAULT_LEADER_RECHECK_MS = 5_000;
const MAX_PROBE_TIMEOUT_MS = 1_000;

function count(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < min) throw new TypeError(`torua client: ${name}: expected a number >= ${min}, got ${String(value)}`);
  return value;
}

export function resolveSettings(options: ClusterClientOptions): ClientSettings {
  const timeoutMs = count('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS, 1);
  const backoffMs = count('backoffMs', options.backoffMs, DEFAULT_BACKOFF_MS, 0);
  return {
    coordinators: parseAddresses(options.coordinators),
    timeoutMs,
    maxRetries: Math.floor(count('maxRetries', options.maxRetries, DEFAULT_MAX_RETRIES, 0)),
    backoffMs,
    maxBackoffMs: Math.max(backoffMs, count('maxBackoffMs', options.maxBackoffMs, DEFAULT_MAX_BACKOFF_MS, 0)),
    leaderRecheckMs: count('leaderRecheckMs', options.leaderRecheckMs, DEFAULT_LEADER_RECHECK_MS, 0),
    probeTimeoutMs: Math.min(timeoutMs, MAX_PROBE_TIMEOUT_MS),
    random: options.random ?? Math.random,
    fetch: options.localAddress === undefined && processTls() === undefined ? undefined : replicaFetch(options.localAddress, timeoutMs),
    headers: authorizationHeaders(options.token),
  };
}

/** The Authorization header for `token`; a token that could not be a header value is refused here, not sent. */
export function authorizationHeaders(token: string | undefined): Readonly<Record<string, string>> {
  if (token === undefined) return {};
  if (!/^[\x21-\x7e]{1,512}$/.test(token)) throw new TypeError('torua client: token: expected 1 to 512 printable characters without spaces');
  return { authorization: `Bearer ${token}` };
}

/** Kept-alive connections from `localAddress`; the link's own attempt timeout comes first, this one is a backstop. */
export function replicaFetch(localAddress: string | undefined, timeoutMs: number): LinkFetch {
  // Only a coordinator certificate may answer as a replica (with TLS; Node's own fetch cannot present a client certificate).
  const agent = createClientAgent({ keepAlive: true, maxSockets: 64, expect: ['coordinator'], ...(localAddress === undefined ? {} : { localAddress }) });
  return agentFetch({ agent, maxAnswerBytes: MAX_ANSWER_BYTES, timeoutMs: timeoutMs + 1_000 });
}

/** Per-call overrides a caller passes as `{ context: { timeoutMs, maxRetries } }`. */
export function callSettings(settings: ClientSettings, context: Readonly<Record<string, unknown>>): { timeoutMs: number; maxRetries: number } {
  const pick = (key: string, fallback: number, min: number) => {
    const v = context[key];
    return typeof v === 'number' && Number.isFinite(v) && v >= min ? v : fallback;
  };
  return { timeoutMs: pick('timeoutMs', settings.timeoutMs, 1), maxRetries: Math.floor(pick('maxRetries', settings.maxRetries, 0)) };
}
