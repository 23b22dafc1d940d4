import type { Clock, Timer, Timers } from './clock.js';

interface Armed {
  readonly atMs: number;
  readonly seq: number;
  readonly fn: () => void;
  readonly everyMs: number | undefined;
  /** Shared by every arming of a periodic timer, so one cancel stops them all. */
  readonly handle: { cancelled: boolean };
}

/**
 * Simulated time: a clock that moves only when the simulator says so, and
 * timers that fire in (due time, arming order) when it does. The simulated
 * twin of systemClock and realTimers; one instance is one process's view,
 * and `driftMs` skews it from the simulator's true time (clock drift).
 */
export class SimTime implements Clock, Timers {
  private armed: Armed[] = [];
  private seq = 0;
  private trueMs: number;
  /** How far this view runs ahead (positive) or behind the true time. */
  driftMs = 0;

  constructor(startMs = 0) {
    this.trueMs = startMs;
  }

  nowMs(): number {
    return this.trueMs + this.driftMs;
  }

  after(ms: number, fn: () => void): Timer {
    return this.arm(ms, fn, undefined);
  }

  every(ms: number, fn: () => void): Timer {
    return this.arm(ms, fn, Math.max(1, ms));
  }

  /** Timers still armed. */
  get pending(): number {
    return this.armed.filter((a) => !a.handle.cancelled).length;
  }

  /** Drops every timer (the process died). */
  cancelAll(): void {
    for (const a of this.armed) a.handle.cancelled = true;
    this.armed = [];
  }

  /**
   * Moves true time to `toMs`, firing every timer due by then in order; a
   * timer armed by one that fires runs too when due by `toMs`. An interval
   * fires once per call at most when the call skips whole periods (that is a
   * pause): advance in steps shorter than the shortest period to see every
   * firing. Returns the number fired.
   */
  advanceTo(toMs: number): number {
    let fired = 0;
    for (;;) {
      const next = this.nextDue();
      if (!next || next.atMs > toMs + this.driftMs) break;
      this.armed.splice(this.armed.indexOf(next), 1);
      this.trueMs = Math.max(this.trueMs, next.atMs - this.driftMs);
      if (next.everyMs !== undefined) {
        // Like an interval timer of a process that was stopped: once late by a whole period, it fires
        // once and goes on from the time it caught up, not once for every period it missed.
        const localTarget = toMs + this.driftMs;
        const base = next.atMs + next.everyMs <= localTarget ? localTarget : next.atMs;
        this.push(base + next.everyMs, next.fn, next.everyMs, next.handle);
      }
      fired++;
      next.fn();
    }
    this.trueMs = Math.max(this.trueMs, toMs);
    return fired;
  }

  private nextDue(): Armed | undefined {
    let best: Armed | undefined;
    this.armed = this.armed.filter((a) => !a.handle.cancelled);
    for (const a of this.armed) if (!best || a.atMs < best.atMs || (a.atMs === best.atMs && a.seq < best.seq)) best = a;
    return best;
  }

  private arm(ms: number, fn: () => void, everyMs: number | undefined): Timer {
    const handle = { cancelled: false };
    this.push(this.nowMs() + Math.max(0, ms), fn, everyMs, handle);
    return { cancel: () => void (handle.cancelled = true) };
  }

  private push(atMs: number, fn: () => void, everyMs: number | undefined, handle: { cancelled: boolean }): void {
    this.armed.push({ atMs, seq: this.seq++, fn, everyMs, handle });
  }
}
