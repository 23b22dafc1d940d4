/**
 * Capped exponential backoff with "equal jitter": half of each delay is
 * fixed, half random. The fixed half keeps a retry from hammering a replica
 * that is mid-election or a peer that flaps; the random half keeps many
 * clients (or two replicas that lost each other at the same instant) from
 * retrying in lockstep. Client retries, peer reconnects and webhook
 * deliveries all use it.
 *
 * `retry` counts from 1 (the first retry waits about `baseMs`).
 */
export function backoffDelayMs(retry: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  if (retry < 1 || baseMs <= 0) return 0;
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(retry - 1, 30));
  return ceiling / 2 + (random() * ceiling) / 2;
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 && !signal?.aborted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
