import { NONE, type Entry, type HardState, type InitialState, type Snapshot } from '../raft/index.js';
import type { PersistBatch, RaftStorage } from './raft-storage.js';

interface Durable {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  /** Entries after the snapshot, contiguous. */
  entries: Entry[];
}

/**
 * An in-memory Raft store with the same contract as the LevelDB one, plus
 * the failure a power cut causes: batches written but not yet synced are
 * lost by `crash()`. `write()` + `sync()` let a simulation decide exactly
 * when a write becomes durable; `persist()` does both for ordinary use.
 */
export class MemoryStorage implements RaftStorage {
  private durable: Durable = { hardState: { term: 0, vote: NONE, commit: 0 }, snapshot: undefined, entries: [] };
  /** Written, not yet durable (the OS page cache). */
  private buffered: PersistBatch[] = [];
  /** Counts batches made durable, for tests. */
  syncedBatches = 0;

  async load(): Promise<InitialState> {
    return this.loadNow();
  }

  async persist(batch: PersistBatch): Promise<void> {
    this.write(batch);
    if (batch.sync) this.sync();
  }

  async close(): Promise<void> {
    // nothing to release
  }

  /** The durable state as a restart would see it. Unsynced writes are not visible. */
  loadNow(): InitialState {
    const d = this.durable;
    return { hardState: d.hardState, snapshot: d.snapshot, entries: [...d.entries] };
  }

  /** Buffers a batch: visible after sync(), lost by crash(). */
  write(batch: PersistBatch): void {
    this.buffered.push(batch);
  }

  /** Makes every buffered batch durable, in order. */
  sync(): void {
    for (const b of this.buffered) this.applyDurably(b);
    this.syncedBatches += this.buffered.length;
    this.buffered = [];
  }

  /** A power cut: everything not synced is gone. */
  crash(): void {
    this.buffered = [];
  }

  /** Wipes the store (a replica whose data directory was deleted). */
  wipe(): void {
    this.buffered = [];
    this.durable = { hardState: { term: 0, vote: NONE, commit: 0 }, snapshot: undefined, entries: [] };
  }

  private applyDurably(b: PersistBatch): void {
    const d = this.durable;
    if (b.snapshot) {
      d.snapshot = b.snapshot;
      d.entries = [];
    }
    if (b.entries.length > 0) {
      const base = d.snapshot?.meta.index ?? 0;
      const first = b.entries[0]!.index;
      if (first <= base) throw new Error(`memory storage: entry ${first} is behind the snapshot at ${base}`);
      if (first > base + d.entries.length + 1) {
        throw new Error(`memory storage: entry ${first} leaves a gap after ${base + d.entries.length}`);
      }
      d.entries.length = first - base - 1;
      for (const e of b.entries) d.entries.push(e);
    }
    if (b.hardState) d.hardState = b.hardState;
    if (b.compaction) {
      const cur = d.snapshot?.meta.index ?? 0;
      const at = b.compaction.meta.index;
      if (at > cur) {
        d.entries = d.entries.slice(at - cur);
        d.snapshot = b.compaction;
      }
    }
  }
}
