/** The error a call ends with when every attempt failed, and helpers to read any client error. */
import { TRPCClientError } from '@trpc/client';
import type { AppRouter } from '../api/coordinator/index.js';
import { errorDataOf } from './failure.js';

export interface FailedAttempt {
  readonly address: string;
  /** The §7 code of the answer, or UNAVAILABLE (no answer) / TIMEOUT (no answer in time). */
  readonly code: string;
  readonly description: string;
}

/** tRPC's number for SERVICE_UNAVAILABLE and GATEWAY_TIMEOUT (@trpc/server's TRPC_ERROR_CODES_BY_KEY). */
const TRPC_SERVER_ERROR_NUMBER = -32603;

function summary(path: string, attempts: readonly FailedAttempt[], elapsedMs: number): string {
  const lastByAddress = new Map<string, string>();
  for (const a of attempts) lastByAddress.set(a.address, a.description);
  const detail = [...lastByAddress].map(([address, d]) => `${address}: ${d}`).join('; ');
  const n = attempts.length;
  return `${path}: no coordinator could serve it after ${n} attempt${n === 1 ? '' : 's'} in ${(elapsedMs / 1_000).toFixed(1)} s (${detail})`;
}

/**
 * A TRPCClientError like every other the client throws, so one `catch`
 * handles all; `data.code` is the last attempt's code (TIMEOUT means a write
 * may still take effect), `data.retriesExhausted` is true, and `attempts`
 * says what each attempt met.
 */
export class ClusterUnavailableError extends TRPCClientError<AppRouter> {
  readonly attempts: readonly FailedAttempt[];

  constructor(path: string, attempts: readonly FailedAttempt[], elapsedMs: number, cause: unknown) {
    const message = summary(path, attempts, elapsedMs);
    const code = attempts.at(-1)?.code ?? 'UNAVAILABLE';
    const httpStatus = code === 'TIMEOUT' ? 504 : 503;
    super(message, {
      cause: cause instanceof Error ? cause : undefined,
      result: {
        error: {
          code: TRPC_SERVER_ERROR_NUMBER,
          message,
          data: { code, message, httpStatus, path, retriesExhausted: true, attemptCount: attempts.length },
        },
      },
    });
    // TRPCClientError resets the prototype to its own; put the subclass back so instanceof works.
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = 'ClusterUnavailableError';
    this.attempts = attempts;
  }
}

/** The §7 code of an error a client call threw (NOT_FOUND, INVALID_INPUT, UNAVAILABLE …), if it carries one. */
export function errorCodeOf(err: unknown): string | undefined {
  const code = errorDataOf(err)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `message (CODE)`: how the CLI prints a failed call. */
export function describeClientError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = errorCodeOf(err);
  return code === undefined || message.includes(code) ? message : `${message} (${code})`;
}

/**
 * Whether a cluster client's failure means no replica answered at all: every
 * attempt failed without an answer (refused, reset, timed out). An answer of
 * any kind (NO_QUORUM, NOT_FOUND …) is a cluster that was reached; the client
 * writes those attempts as `CODE: message`.
 */
export function reachedNoReplica(err: unknown): boolean {
  if (!(err instanceof ClusterUnavailableError) || err.attempts.length === 0) return false;
  return err.attempts.every((a) => !/^[A-Z][A-Z_]*: /.test(a.description));
}
