/**
 * Showing a long operation's progress while `--wait` polls it: a bar redrawn
 * in place on a terminal, one plain line per change otherwise (a log or a
 * pipe gets no carriage returns), and a bound on waiting without progress.
 */
import type { CliIo } from './run.js';

export interface Progress {
  readonly done: number;
  readonly total: number;
  /** What the numbers count and anything else worth a glance, e.g. `copies moved, eta 12.0s`. */
  readonly detail: string;
}

const BAR_WIDTH = 30;

/** `[##########--------------------] 4/12 copies moved`: pure, for the terminal. */
export function progressBar(p: Progress): string {
  const share = p.total <= 0 ? 1 : Math.min(1, Math.max(0, p.done / p.total));
  const filled = Math.round(share * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${p.done}/${p.total} ${p.detail}`;
}

export class ProgressPrinter {
  private last = '';
  private drawn = false;

  constructor(
    private readonly io: CliIo,
    private readonly tty: boolean,
  ) {}

  show(p: Progress): void {
    const text = this.tty ? progressBar(p) : `${p.done}/${p.total} ${p.detail}`;
    if (text === this.last) return;
    this.last = text;
    if (this.tty) {
      this.io.out(`\r\x1b[2K${text}`);
      this.drawn = true;
    } else {
      this.io.out(`${text}\n`);
    }
  }

  /** Ends the bar's line, so what follows starts on its own. */
  end(): void {
    if (this.drawn) this.io.out('\n');
    this.drawn = false;
  }
}

export interface PollOptions {
  readonly intervalMs: number;
  /** Gives up when the progress has not changed for this long. */
  readonly stuckAfterMs: number;
  readonly clock?: { nowMs(): number };
  readonly sleep?: (ms: number) => Promise<void>;
}

const sleeper = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `step` until it returns a result; `step` also answers a key that
 * changes whenever progress is made. Throws when that key stays the same for
 * `stuckAfterMs`, so the loop is bounded in time.
 */
export async function pollUntil<T>(step: () => Promise<{ result?: T; progressKey: string }>, opts: PollOptions, stuckWhat: string): Promise<T> {
  const clock = opts.clock ?? { nowMs: () => Date.now() };
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
