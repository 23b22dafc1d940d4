import type { Entry, HardState, InitialState, Ready, Snapshot } from '../raft/index.js';

/** What one Ready asks storage to write, as one atomic batch. */
export interface PersistBatch {
  readonly hardState: HardState | undefined;
  /** A snapshot from the leader: replaces the stored log. */
  readonly snapshot: Snapshot | undefined;
  /** An entry at index i replaces every stored entry at i or after. */
  readonly entries: readonly Entry[];
  /** A local snapshot: stored entries up to its index may be dropped. */
  readonly compaction: Snapshot | undefined;
  /** Durable before the returned promise resolves (fsync). */
  readonly sync: boolean;
}

/**
 * The Raft log store of a coordinator replica. The in-memory store
 * (simulation and tests) and the LevelDB store (production) implement it.
 */
export interface RaftStorage {
  /** Everything a replica needs to restart. */
  load(): Promise<InitialState>;
  /** Writes one batch atomically; when `sync`, resolves only once it is durable. */
  persist(batch: PersistBatch): Promise<void>;
  close(): Promise<void>;
}

export function batchOf(rd: Ready): PersistBatch {
  return { hardState: rd.hardState, snapshot: rd.snapshot, entries: rd.entries, compaction: rd.compaction, sync: rd.mustSync };
}

export function isEmptyBatch(b: PersistBatch): boolean {
  return b.hardState === undefined && b.snapshot === undefined && b.entries.length === 0 && b.compaction === undefined;
}
