import type { Message, MemberId, SeededRng } from '../../src/raft/index.js';

export interface NetworkFaults {
  /** Probability that a message is lost. */
  dropRate: number;
  /** Probability that a message is delivered twice. */
  duplicateRate: number;
  /** Each delivery is delayed by 0..maxDelayTicks ticks (so messages reorder). */
  maxDelayTicks: number;
  /** Deliver in send order (a healthy TCP link); otherwise same-tick messages arrive in any order. */
  fifo: boolean;
}

export const NO_FAULTS: NetworkFaults = { dropRate: 0, duplicateRate: 0, maxDelayTicks: 0, fifo: true };

interface InFlight {
  readonly deliverAt: number;
  readonly seq: number;
  readonly msg: Message;
}

/**
 * The simulated network: every message is queued with a delivery time drawn
 * from the seed; directed links can be cut (a partition, also one-way).
 * Messages on a link that is cut when they are sent or when they arrive are
 * lost, as with a packet filter.
 */
export class SimNetwork {
  faults: NetworkFaults = NO_FAULTS;
  /** Messages by the tick they are due (held ones move on to the next tick). */
  private readonly buckets = new Map<number, InFlight[]>();
  private count = 0;
  /** Ticks up to this one have been handed out; anything sent for them goes to the next one. */
  private drainedTo = -1;
  private readonly cut = new Set<string>();
  private seq = 0;
  sent = 0;
  dropped = 0;

  constructor(private readonly rng: SeededRng) {}

  send(m: Message, now: number): void {
    this.sent++;
    if (this.isCut(m.from, m.to) || this.rng.chance(this.faults.dropRate)) {
      this.dropped++;
      return;
    }
    const copies = this.rng.chance(this.faults.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = this.faults.fifo ? this.faults.maxDelayTicks : this.rng.int(this.faults.maxDelayTicks + 1);
      this.enqueue({ deliverAt: now + delay, seq: this.seq++, msg: m });
    }
  }

  private enqueue(f: InFlight): void {
    const at = Math.max(f.deliverAt, this.drainedTo + 1);
    const b = this.buckets.get(at);
    if (b) b.push(f);
    else this.buckets.set(at, [f]);
    this.count++;
  }

  /**
   * Messages due by `now`, in a seed-decided order; `held(to)` keeps a
   * message queued (its receiver is paused, like a stopped process whose
   * socket buffers fill).
   */
  due(now: number, held: (to: MemberId) => boolean): Message[] {
    this.drainedTo = now;
    const bucket = this.buckets.get(now);
    if (!bucket) return [];
    this.buckets.delete(now);
    this.count -= bucket.length;
    const ready: InFlight[] = [];
    for (const f of bucket) {
      if (held(f.msg.to)) this.enqueue({ deliverAt: now + 1, seq: f.seq, msg: f.msg });
      else ready.push(f);
    }
    // Held messages keep their place ahead of newer ones on the next tick.
    ready.sort((a, b) => a.seq - b.seq);
    // Shuffle within the batch: same-tick messages may arrive in any order.
    for (let i = this.faults.fifo ? 0 : ready.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      const t = ready[i]!;
      ready[i] = ready[j]!;
      ready[j] = t;
    }
    const out: Message[] = [];
    for (const f of ready) {
      if (this.isCut(f.msg.from, f.msg.to)) this.dropped++;
      else out.push(f.msg);
    }
    return out;
  }

  /** Drops every message to `id` (a crashed process loses its socket buffers). */
  dropTo(id: MemberId): void {
    for (const [at, b] of this.buckets) {
      const kept = b.filter((f) => f.msg.to !== id);
      this.dropped += b.length - kept.length;
      this.count -= b.length - kept.length;
      this.buckets.set(at, kept);
    }
  }

  cutLink(from: MemberId, to: MemberId): void {
    this.cut.add(`${from}>${to}`);
  }

  isCut(from: MemberId, to: MemberId): boolean {
    return this.cut.size > 0 && this.cut.has(`${from}>${to}`);
  }

  healAll(): void {
    this.cut.clear();
  }

  cutLinks(): string[] {
    return [...this.cut];
  }

  get pending(): number {
    return this.count;
  }
}
