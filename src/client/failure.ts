/**
 * What a failed attempt means for the next one. Only failures that another
 * replica (or the same one a moment later) may not repeat are retried; an
 * answer about the request itself (bad input, not found, stale epoch …) is
 * the caller's, at once.
 */
import { parseAddress } from './addresses.js';

export type AttemptFailure =
  /** NOT_LEADER naming the leader: go there next, without waiting. */
  | { readonly kind: 'redirect'; readonly leaderAddress: string; readonly leader: string | undefined; readonly code: string; readonly description: string }
  /** The replica could not serve it now, or could not be reached: another one, after a backoff. */
  | { readonly kind: 'retry'; readonly code: string; readonly description: string }
  /** The answer stands. */
  | { readonly kind: 'final' };

/** Codes of DESIGN.md §7 that say "not here, not now" rather than "not this request". */
const RETRYABLE_CODES: ReadonlySet<string> = new Set(['NOT_LEADER', 'NO_LEADER', 'NO_QUORUM', 'UNAVAILABLE', 'TIMEOUT', 'OVERLOADED']);
const RETRYABLE_STATUS: ReadonlySet<number> = new Set([502, 503, 504]);

/** Code of the client's own failures: no answer at all is UNAVAILABLE; no answer in time is TIMEOUT (the call may still take effect). */
export const NO_ANSWER_CODE = 'UNAVAILABLE';
export const NO_ANSWER_IN_TIME_CODE = 'TIMEOUT';

const NETWORK_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
  ETIMEDOUT: 'connect timeout',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'unknown host (DNS)',
};

interface ErrorData {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly httpStatus?: unknown;
  readonly leader?: unknown;
  readonly leaderAddress?: unknown;
}

/** The `data` of a tRPC error answer (our §7 body), if the failure was an answer. */
export function errorDataOf(err: unknown): ErrorData | undefined {
  const data = (err as { data?: unknown } | null)?.data;
  return typeof data === 'object' && data !== null ? (data as ErrorData) : undefined;
}

/** The first errno-style code in an error's cause chain (undici wraps the socket's error in `TypeError: fetch failed`). */
function networkCodeOf(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The message of the innermost cause: undici's "fetch failed" says nothing, its cause ("bad port", …) does. */
function rootMessageOf(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 6; depth++) {
    const cause = (current as { cause?: unknown } | null)?.cause;
    if (!(cause instanceof Error)) break;
    current = cause;
  }
  return messageOf(current);
}

/** A failure without a tRPC answer, in words: "connection refused", "connection reset", "bad port". */
export function describeTransportFailure(err: unknown): string {
  const code = networkCodeOf(err);
  if (code !== undefined) return NETWORK_CODES[code] ?? code.toLowerCase().replace(/_/g, ' ');
  return rootMessageOf(err);
}

/**
 * `timedOut`: the attempt was cut off by the client's own timer (not by the
 * caller's signal, which the caller checks before asking).
 */
export function classifyFailure(err: unknown, timedOut: { timeoutMs: number } | undefined): AttemptFailure {
  if (timedOut !== undefined) return { kind: 'retry', code: NO_ANSWER_IN_TIME_CODE, description: `no answer within ${timedOut.timeoutMs} ms` };
  const data = errorDataOf(err);
  if (data === undefined || typeof data.code !== 'string') {
    // No tRPC answer: refused, reset, or a body that is not ours (a proxy's error page). Nothing was decided.
    return { kind: 'retry', code: NO_ANSWER_CODE, description: describeTransportFailure(err) };
  }
  const code = data.code;
  const description = `${code}: ${typeof data.message === 'string' ? data.message : messageOf(err)}`;
  if (code === 'NOT_LEADER' && typeof data.leaderAddress === 'string') {
    try {
      const leaderAddress = parseAddress(data.leaderAddress).address;
      return { kind: 'redirect', leaderAddress, leader: typeof data.leader === 'string' ? data.leader : undefined, code, description };
    } catch {
      // An address we cannot dial is no hint: look the leader up instead.
    }
  }
  if (RETRYABLE_CODES.has(code) || (typeof data.httpStatus === 'number' && RETRYABLE_STATUS.has(data.httpStatus))) {
    return { kind: 'retry', code, description };
  }
  return { kind: 'final' };
}
