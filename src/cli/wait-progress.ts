/**
 * Waiting for a long operation (`--wait`): a poll loop bounded by how long
 * it may go without progress, and the duration flag those commands take.
 * Drawing the progress is progress.ts's.
 */
import { systemClock, type Clock } from '../common/clock.js';
export interface PollOptions {
  readonly intervalMs: number;
  /** Gives up when the progress has not changed for this long. */
  readonly stuckAfterMs: number;
  readonly clock?: Clock;
  readonly sleep?: (ms: number) => Promise<void>;
}

const sleeper = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `step` until it returns a result; `step` also answers a key that
 * changes whenever progress is made. Throws when that key stays the same for
 * `stuckAfterMs`, so the loop is bounded in time.
 */
export async function pollUntil<T>(step: () => Promise<{ result?: T; progressKey: string }>, opts: PollOptions, stuckWhat: string): Promise<T> {
  const clock = opts.clock ?? systemClock;
  const sleep = opts.sleep ?? sleeper;
  let key: string | undefined;
  let changedAtMs = clock.nowMs();
  for (;;) {
    const { result, progressKey } = await step();
    if (result !== undefined) return result;
    if (progressKey !== key) {
      key = progressKey;
      changedAtMs = clock.nowMs();
    } else if (clock.nowMs() - changedAtMs >= opts.stuckAfterMs) {
      throw new Error(`${stuckWhat}: no progress for ${Math.round(opts.stuckAfterMs / 1000)} s`);
    }
    await sleep(opts.intervalMs);
  }
}

/** `--ttl 30m`: ms, s, m, h or d after a whole number (bare numbers are ms). */
export function parseDurationFlag(flag: string, text: string): number | string {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (m === null) return `${flag}: expected a duration like 90s, 30m or 2h, got ${JSON.stringify(text)}`;
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h' | 'd'];
  const ms = Number(m[1]) * unit;
  return ms > 0 && Number.isSafeInteger(ms) ? ms : `${flag}: expected a positive duration, got ${JSON.stringify(text)}`;
}
