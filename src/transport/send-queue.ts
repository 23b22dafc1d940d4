/**
 * A per-peer FIFO of encoded frames, bounded by count and by bytes. When a
 * bound is hit the oldest frames go: Raft retransmits whatever matters, and
 * the newest messages (latest term, latest commit) supersede old ones.
 */
export class SendQueue {
  private items: Uint8Array[] = [];
  /** Index of the oldest live item; the array is compacted lazily. */
  private head = 0;
  private bytes = 0;

  constructor(
    private readonly maxMessages: number,
    private readonly maxBytes: number,
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  get queuedBytes(): number {
    return this.bytes;
  }

  /** Appends a frame; returns how many old frames were dropped to make room. The new one always stays. */
  push(frame: Uint8Array): number {
    this.items.push(frame);
    this.bytes += frame.length;
    let dropped = 0;
    while (this.length > 1 && (this.length > this.maxMessages || this.bytes > this.maxBytes)) {
      this.shiftOne();
      dropped++;
    }
    return dropped;
  }

  /** Removes and returns frames from the front, up to maxBytes in total (at least one frame). */
  take(maxBytes: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let bytes = 0;
    while (this.length > 0) {
      const next = this.items[this.head]!;
      if (out.length > 0 && bytes + next.length > maxBytes) break;
      out.push(this.shiftOne());
      bytes += next.length;
    }
    return out;
  }

  /** Empties the queue; returns how many frames were discarded. */
  clear(): number {
    const n = this.length;
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    return n;
  }

  private shiftOne(): Uint8Array {
    const item = this.items[this.head]!;
    this.items[this.head] = EMPTY;
    this.head++;
    this.bytes -= item.length;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

const EMPTY = new Uint8Array(0);
