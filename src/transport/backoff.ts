/**
 * Reconnect delay: exponential from minMs, capped at maxMs, with "equal
 * jitter" (a random point in the upper half). The jitter keeps two replicas
 * that lost each other at the same instant from redialling in lockstep; the
 * lower half stays empty so a flapping peer is never hammered at minMs.
 * Pure: the caller passes the random number.
 */
export function backoffDelayMs(attempt: number, minMs: number, maxMs: number, random01: number): number {
  // 2^attempt overflows to Infinity for large attempts; Math.min caps it.
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt));
  return ceiling / 2 + (ceiling / 2) * random01;
}
