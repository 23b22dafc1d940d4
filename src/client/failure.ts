/**
 * What a failed attempt means for the next one. Only failures that another
 * replica (or the same one a moment later) may not repeat are retried; an
 * answer about the request itself (bad input, not found, stale epoch …) is
 * the caller's, at once.
 */
import { describeTransportFailure } from '../data-wire/transport-failure.js';
import { parseAddress } from './addresses.js';

export { describeTransportFailure };

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

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
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
