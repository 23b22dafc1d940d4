/**
 * The exit codes of every `torua` command (README, "The torua command"):
 * 0 done, 1 the cluster refused or failed it, 2 bad usage (nothing was
 * sent), 3 no coordinator could be reached at all.
 */
import { KvError, reachedNoReplica } from '../client/index.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 3;

export type ExitCode = typeof EXIT_OK | typeof EXIT_FAILED | typeof EXIT_USAGE | typeof EXIT_UNREACHABLE;

/** Whether a client error means no coordinator could be reached (see reachedNoReplica). */
export function isUnreachable(err: unknown): boolean {
  return reachedNoReplica(err) || (err instanceof KvError && err.coordinatorsUnreachable);
}

export function exitCodeOf(err: unknown): ExitCode {
  return isUnreachable(err) ? EXIT_UNREACHABLE : EXIT_FAILED;
}
