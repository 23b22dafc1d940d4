/**
 * The exit codes of every `torua` command (README, "The torua command"):
 * 0 done, 1 the cluster refused or failed it, 2 bad usage (nothing was
 * sent), 3 no coordinator could be reached at all.
 */
import { ClusterUnavailableError } from '../client/index.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 3;

export type ExitCode = typeof EXIT_OK | typeof EXIT_FAILED | typeof EXIT_USAGE | typeof EXIT_UNREACHABLE;

/**
 * Whether a client error means no replica answered: every attempt failed
 * without an answer (refused, reset, timed out). An answer of any kind
 * (NO_QUORUM, NOT_FOUND …) is a cluster that was reached; the client writes
 * those attempts as `CODE: message`.
 */
export function isUnreachable(err: unknown): boolean {
  if (!(err instanceof ClusterUnavailableError) || err.attempts.length === 0) return false;
  return err.attempts.every((a) => !/^[A-Z][A-Z_]*: /.test(a.description));
}

export function exitCodeOf(err: unknown): ExitCode {
  return isUnreachable(err) ? EXIT_UNREACHABLE : EXIT_FAILED;
}
