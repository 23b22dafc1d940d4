/** A FIFO of at most `capacity` items that drops the oldest to make room: a slow consumer can never grow it without bound. */
export class DropOldestQueue<T> {
  private items: T[] = [];
  private head = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Appends; returns how many of the oldest items were dropped to make room (0 or 1). */
  push(item: T): number {
    let dropped = 0;
    if (this.length >= this.capacity) {
      this.head++;
      dropped = 1;
    }
    this.items.push(item);
    this.compact();
    return dropped;
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.items[this.head] as T;
    this.head++;
    this.compact();
    return item;
  }

  /** Empties the queue; returns how many items it held. */
  clear(): number {
    const n = this.length;
    this.items = [];
    this.head = 0;
    return n;
  }

  // Dropping from the front by index keeps push and shift O(1); the array is cut once half of it is spent.
  private compact(): void {
    if (this.head > 1_024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
