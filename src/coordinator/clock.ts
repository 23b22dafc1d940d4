/**
 * Time as every component above the Raft core sees it: a clock to read and
 * timers to arm, passed in, so that the production code runs unchanged under
 * the simulator's time (SimTime) as under the machine's (systemClock,
 * realTimers).
 */
export interface Clock {
  /** Milliseconds since the epoch (or since the simulation began). */
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

/** Resolves after `ms` of the given timers' time. */
export function sleepOn(timers: Timers, ms: number): Promise<void> {
  return new Promise((resolve) => timers.after(ms, resolve));
}
