import { realTimers, type Timer, type Timers } from '../../common/clock.js';

/** A call through a port that never settles must not hold a slot for ever: it is given up on a little after its own timeout. */
const GRACE_MS = 50;

export async function withDeadline<T>(call: Promise<T>, timeoutMs: number, what: string, timers: Timers = realTimers): Promise<T> {
  // Given up on at the deadline, the call may still fail later: that is no news.
  call.catch(() => undefined);
  let timer: Timer | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = timers.after(timeoutMs + GRACE_MS, () => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)));
  });
  try {
    return await Promise.race([call, deadline]);
  } finally {
    timer?.cancel();
  }
}
