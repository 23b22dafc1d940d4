import { realTimers, type Clock, type Timer, type Timers } from '../../common/clock.js';
/**
 * Runs a leader loop's rounds one at a time: `schedule(ms)` asks for a round
 * that soon (an earlier request wins over a later one); a request made while
 * a round runs gives another round right after it, and after every round the
 * loop itself says how long until the next. (The placement driver has the
 * same rhythm written out by hand; it could use this too.)
 */
export interface RoundTimerModules {
  /** One round; a rejection is reported to `failed` and the loop goes on. */
  readonly round: () => Promise<void>;
  /** How long after a round the next one is due. */
  readonly nextDelayMs: () => number;
  readonly failed: (e: unknown) => void;
  readonly clock: Clock;
  readonly timers?: Timers;
}

export class RoundTimer {
  private running = false;
  private timer: Timer | undefined;
  private timerDueMs = 0;
  private inFlight: Promise<void> | undefined;
  private again = false;

  constructor(private readonly modules: RoundTimerModules) {}

  start(): void {
    this.running = true;
  }

  /** No round is begun after this; resolves once the one in flight has ended. */
  async stop(): Promise<void> {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
    await this.inFlight;
  }

  schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.inFlight !== undefined) {
      this.again = true;
      return;
    }
    const due = this.modules.clock.nowMs() + delayMs;
    if (this.timer !== undefined && this.timerDueMs <= due) return;
    this.timer?.cancel();
    this.timerDueMs = due;
    this.timer = (this.modules.timers ?? realTimers).after(delayMs, () => this.fire());
  }

  private fire(): void {
    this.timer = undefined;
    if (!this.running) return;
    this.inFlight = this.modules
      .round()
      .catch((e: unknown) => this.modules.failed(e))
      .finally(() => {
        this.inFlight = undefined;
        const soon = this.again;
        this.again = false;
        this.schedule(soon ? 0 : this.modules.nextDelayMs());
      });
  }
}
