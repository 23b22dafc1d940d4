/**
 * One lease renewal attempt's bounds (lease.ts): how long it may take, how
 * long to pause between attempts, and which refusals no other replica would change.
 */
import { sleepOn, type Timers } from '../common/clock.js';
import { ClusterErrorCode, isClusterError } from '../errors/index.js';

/**
 * One attempt waits a few times as long as grants have recently taken, but
 * at least a tenth and at most a quarter of the lease: a silent replica (a
 * paused or cut-off leader, a follower still relaying to it) costs little
 * of the lease, and a loaded but live leader is not given up on too soon.
 */
const ATTEMPT_LATENCY_FACTOR = 3;
const MIN_ATTEMPT_LEASE_FRACTION = 10;
const MAX_ATTEMPT_LEASE_FRACTION = 4;
const MIN_ATTEMPT_MS = 50;

/** How long one attempt may take, given the lease and the recent round trip of a grant. */
export function attemptTimeoutMs(leaseMs: number, latencyMs: number): number {
  const floor = Math.max(MIN_ATTEMPT_MS, leaseMs / MIN_ATTEMPT_LEASE_FRACTION);
  const ceiling = Math.max(floor, leaseMs / MAX_ATTEMPT_LEASE_FRACTION);
  return Math.ceil(Math.min(ceiling, Math.max(floor, ATTEMPT_LATENCY_FACTOR * latencyMs)));
}

/** Answers no other replica would change: the node is unknown or another process holds its id. */
export function isFinal(e: unknown): boolean {
  return isClusterError(e, ClusterErrorCode.NotFound) || isClusterError(e, ClusterErrorCode.Conflict) || isClusterError(e, ClusterErrorCode.InvalidInput);
}

/** `p`, or a rejection once `signal` aborts: an attempt given up is given up, whatever the link does later. */
export function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export async function pause(timers: Timers, ms: number, leftMs: number, signal: AbortSignal): Promise<void> {
  const wait = Math.ceil(Math.min(ms, leftMs));
  if (wait > 0) await sleepOn(timers, wait, signal);
}
