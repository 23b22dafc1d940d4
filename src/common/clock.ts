/**
 * Time as every component above the Raft core sees it: a clock to read and
 * timers to arm, passed in, so that the production code runs unchanged under
 * the simulator's time (SimTime) as under the machine's (systemClock or
 * monotonicClock, realTimers).
 */
export interface Clock {
  /** Milliseconds: since the epoch (systemClock), since the process began (monotonicClock) or the simulation began (SimTime). */
  nowMs(): number;
}

/** An armed timer; cancelling one that already fired does nothing. */
export interface Timer {
  cancel(): void;
}

export interface Timers {
  /** Runs `fn` once, `ms` from now. */
  after(ms: number, fn: () => void): Timer;
  /** Runs `fn` every `ms` until cancelled. */
  every(ms: number, fn: () => void): Timer;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

/** The machine's monotonic clock: for durations that must not jump with the wall clock (leases, uptime). */
export const monotonicClock: Clock = { nowMs: () => performance.now() };

export const realTimers: Timers = {
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
  every(ms, fn) {
    const t = setInterval(fn, ms);
    return { cancel: () => clearInterval(t) };
  },
};

/**
 * Resolves after `ms` of the given timers' time, or at once when `signal`
 * aborts (the timer is cancelled then): a wait that a stop cuts short, with
 * the caller checking afterwards why it woke.
 */
export function sleepOn(timers: Timers, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal === undefined) return new Promise((resolve) => timers.after(ms, resolve));
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const wake = (): void => {
      timer.cancel();
      signal.removeEventListener('abort', wake);
      resolve();
    };
    const timer = timers.after(ms, wake);
    signal.addEventListener('abort', wake, { once: true });
  });
}
