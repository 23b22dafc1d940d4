import { RaftError, RaftErrorCode } from './errors.js';
import type { Entry, Snapshot, SnapshotMeta } from './types.js';

/** Rough wire size of an entry, used for the per-message byte limit. */
export function entrySize(e: Entry): number {
  return e.data.length + 24;
}

/**
 * The replica's log as the core sees it: the latest snapshot plus every entry
 * after it, in memory (the application compacts, so this stays bounded).
 *
 * Invariants:
 *  - entries[k].index === snapshot.index + 1 + k (contiguous after the snapshot);
 *  - snapshot.index ≤ applied ≤ committed ≤ lastIndex();
 *  - stableIndex ≤ lastIndex(): entries up to stableIndex are known durable;
 *  - unstableFrom - 1 ≤ lastIndex(): entries from unstableFrom on have not
 *    been handed to a Ready yet.
 */
export class RaftLog {
  private snap: Snapshot;
  private ents: Entry[];
  committed: number;
  applied: number;
  stableIndex: number;
  unstableFrom: number;
  /** A snapshot received from the leader that no Ready has handed out yet. */
  pendingSnapshot: Snapshot | undefined;

  constructor(snapshot: Snapshot, entries: readonly Entry[], committed: number, applied: number) {
    this.snap = snapshot;
    this.ents = [...entries];
    const last = this.lastIndex();
    for (let k = 0; k < this.ents.length; k++) {
      if (this.ents[k]!.index !== snapshot.meta.index + 1 + k) {
        throw new RaftError(RaftErrorCode.CorruptState, `log is not contiguous at position ${k} after snapshot ${snapshot.meta.index}`, {
          index: snapshot.meta.index + 1 + k,
        });
      }
    }
    if (committed > last) {
      throw new RaftError(RaftErrorCode.CorruptState, `commit index ${committed} is beyond the last log entry ${last}`, { index: committed });
    }
    this.committed = Math.max(committed, snapshot.meta.index);
    this.applied = Math.min(Math.max(applied, snapshot.meta.index), this.committed);
    this.stableIndex = last;
    this.unstableFrom = last + 1;
    this.pendingSnapshot = undefined;
  }

  get snapshot(): Snapshot {
    return this.snap;
  }

  firstIndex(): number {
    return this.snap.meta.index + 1;
  }

  lastIndex(): number {
    return this.snap.meta.index + this.ents.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** Term of the entry at `i`; undefined when compacted away or beyond the end. */
  term(i: number): number | undefined {
    const s = this.snap.meta;
    if (i === s.index) return s.term;
    if (i < s.index) return undefined;
    return this.ents[i - s.index - 1]?.term;
  }

  entry(i: number): Entry | undefined {
    return this.ents[i - this.snap.meta.index - 1];
  }

  matchTerm(i: number, t: number): boolean {
    return this.term(i) === t;
  }

  /** Raft §5.4.1: is (lastIndex, lastTerm) at least as up to date as this log? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Entries in [lo, hi) with at most `maxBytes` (always at least one entry);
   * undefined when lo is compacted away.
   */
  slice(lo: number, hi: number, maxBytes = Infinity): Entry[] | undefined {
    if (lo < this.firstIndex()) return undefined;
    const off = this.snap.meta.index + 1;
    const end = Math.min(hi, this.lastIndex() + 1);
    if (lo >= end) return [];
    if (maxBytes === Infinity) return this.ents.slice(lo - off, end - off);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < end; i++) {
      const e = this.ents[i - off]!;
      bytes += entrySize(e);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /**
   * The first entry of `entries` that is new or conflicts with this log (0 if
   * all of them are already here). Entries that already match never cause a
   * truncation: a delayed duplicate append must not cut a suffix.
   */
  findConflict(entries: readonly Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * Fast back-off: the largest index ≤ `index` whose term is ≤ `term`, with
   * that term (0 when the index is compacted away and its term unknown).
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex());
    for (; i >= this.snap.meta.index; i--) {
      const t = this.term(i)!;
      if (t <= term) return { index: i, term: t };
    }
    return { index: Math.max(i, 0), term: 0 };
  }

  /** Appends entries, first cutting everything from entries[0].index on. Returns the cut point or 0. */
  truncateAndAppend(entries: readonly Entry[]): number {
    if (entries.length === 0) return 0;
    const first = entries[0]!.index;
    const last = this.lastIndex();
    if (first <= this.committed) {
      throw new RaftError(RaftErrorCode.ContractViolation, `refusing to overwrite committed entry ${first} (commit ${this.committed})`, {
        index: first,
      });
    }
    if (first > last + 1) {
      throw new RaftError(RaftErrorCode.ContractViolation, `append at ${first} leaves a gap after ${last}`, { index: first });
    }
    let cut = 0;
    if (first <= last) {
      cut = first;
      this.ents.length = first - this.snap.meta.index - 1;
      this.stableIndex = Math.min(this.stableIndex, first - 1);
    }
    this.unstableFrom = Math.min(this.unstableFrom, first);
    for (const e of entries) this.ents.push(e);
    return cut;
  }

  commitTo(i: number): boolean {
    if (i > this.committed) {
      if (i > this.lastIndex()) {
        throw new RaftError(RaftErrorCode.ContractViolation, `commit ${i} beyond last index ${this.lastIndex()}`, { index: i });
      }
      this.committed = i;
      return true;
    }
    return false;
  }

  /** Replaces the whole log by a snapshot from the leader. */
  restore(s: Snapshot): void {
    this.snap = s;
    this.ents = [];
    this.committed = s.meta.index;
    this.applied = s.meta.index;
    this.stableIndex = Math.min(this.stableIndex, s.meta.index);
    this.unstableFrom = s.meta.index + 1;
    this.pendingSnapshot = s;
  }

  /** Drops entries ≤ meta.index behind a local snapshot of the application. */
  compact(meta: SnapshotMeta, data: Uint8Array): Snapshot {
    const keepFrom = meta.index + 1 - this.firstIndex();
    this.ents = this.ents.slice(keepFrom);
    this.snap = { meta, data };
    return this.snap;
  }

  /** Entries not yet handed to a Ready. */
  unstableEntries(): Entry[] {
    return this.slice(this.unstableFrom, this.lastIndex() + 1) ?? [];
  }

  hasNextCommitted(): boolean {
    return this.committed > this.applied && this.pendingSnapshot === undefined;
  }

  nextCommitted(maxBytes: number): Entry[] {
    if (!this.hasNextCommitted()) return [];
    return this.slice(this.applied + 1, this.committed + 1, maxBytes) ?? [];
  }
}
