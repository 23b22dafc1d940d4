/**
 * Work that may come in floods (API requests, answers to a round of
 * linearizable reads) run at most `perTurn` jobs per turn of the event loop,
 * with setImmediate between batches. The replica's Raft tick is a timer and
 * its peers' messages are I/O: both get their turn between two batches, so a
 * thousand renewals arriving at once delay a heartbeat by one batch, not by a
 * thousand jobs (that was enough for followers to call an election).
 * Bounded: a push beyond `maxQueued` is refused, and the caller says so.
 */
export interface TurnQueueOptions {
  /** Jobs run per turn before the event loop gets its turn again. */
  readonly perTurn: number;
  /** Jobs waiting at most; push() refuses more. */
  readonly maxQueued: number;
  /** A job that throws is reported here; the queue goes on. */
  readonly failed?: (e: unknown) => void;
}

export class TurnQueue {
  private jobs: (() => void)[] = [];
  private head = 0;
  private scheduled = false;

  constructor(private readonly opts: TurnQueueOptions) {}

  /** Jobs waiting. */
  get length(): number {
    return this.jobs.length - this.head;
  }

  /** Queues `job` for a coming turn; false (nothing queued) when the queue is full. */
  push(job: () => void): boolean {
    if (this.length >= this.opts.maxQueued) return false;
    this.jobs.push(job);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.run());
    }
    return true;
  }

  private run(): void {
    this.scheduled = false;
    const end = Math.min(this.jobs.length, this.head + this.opts.perTurn);
    while (this.head < end) {
      const job = this.jobs[this.head]!;
      this.jobs[this.head++] = undefined as unknown as () => void;
      try {
        job();
      } catch (e) {
        this.opts.failed?.(e);
      }
    }
    if (this.head === this.jobs.length) {
      this.jobs = [];
      this.head = 0;
    } else if (this.head > 1_024 && this.head * 2 > this.jobs.length) {
      this.jobs = this.jobs.slice(this.head);
      this.head = 0;
    }
    if (this.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.run());
    }
  }
}
