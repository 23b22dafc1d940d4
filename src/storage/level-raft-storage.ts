import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Entry } from '../raft/index.js';
import { corruption, StorageError, StorageErrorCode } from './errors.js';
import { corruptionReported, holdsNoData, QUARANTINE_FILE, quarantine, readQuarantine } from './leveldb-files.js';
import { findLogDamage } from './leveldb-logs.js';
import { findTableDamage } from './leveldb-tables.js';
import type { PersistBatch, RaftStorage } from './raft-storage.js';
import { EMPTY_SUMMARY, type StoreSummary } from './raft-records.js';
import { levelError, RaftRepository, RaftWriteBatch } from './raft-repository.js';
import { checkFormat, verifyStore, type StoredState } from './verify-store.js';

/** A PersistBatch that may also carry the state machine's applied index, written in the same atomic batch. */
export interface LevelPersistBatch extends PersistBatch {
  readonly applied?: number;
}

export interface LevelRaftStorageOptions {
  /**
   * LevelDB's memtable size (default 4 MiB): what the write-ahead log holds
   * before it is turned into a table, so also what a restart replays.
   */
  readonly writeBufferSizeBytes?: number;
}

/** Runs one synced batch write (`write`); may delay its completion or fail instead of writing. */
export type SyncedWriteHook = (write: () => Promise<void>) => Promise<void>;

export interface LevelRaftStorageModules {
  /** Disk-fault injection only (TORUA_FAULTS, see ./faults): wraps every synced write. Absent in production. */
  readonly syncedWrite?: SyncedWriteHook;
}

/**
 * The durable Raft log store of a coordinator replica, on LevelDB. Same
 * contract as MemoryStorage, with every batch one atomic LevelDB write,
 * fsynced when the batch asks for it.
 *
 * Persist calls may be issued back to back without awaiting: each is planned
 * against the state left by the calls before it (tracked in `planned`),
 * written strictly in call order, and its promise resolves when its own write
 * is done. After a failed write the store refuses all later ones, since they
 * were planned on a state the disk may not have.
 */
export class LevelRaftStorage implements RaftStorage {
  /** The summary after every accepted call, whether or not its write is done yet. */
  private planned: StoreSummary;
  private tail: Promise<void> = Promise.resolve();
  private failure: StorageError | undefined;
  private closed = false;

  private constructor(
    private readonly repo: RaftRepository,
    summary: StoreSummary,
    private readonly syncedWrite: SyncedWriteHook | undefined,
  ) {
    this.planned = summary;
  }

  /** Opens (creating it and its directory if needed) the store in `dir`. */
  static async open(dir: string, opts: LevelRaftStorageOptions = {}, modules: LevelRaftStorageModules = {}): Promise<LevelRaftStorage> {
    const dataDir = path.resolve(dir);
    let hadNoData: boolean;
    try {
      await refuseDamagedFiles(dataDir);
      hadNoData = await holdsNoData(dataDir);
    } catch (e) {
      throw fsError(dataDir, e);
    }
    const repo = await RaftRepository.open(dataDir, opts);
    try {
      const reported = await corruptionReported(dataDir);
      if (reported.length > 0) {
        await quarantine(dataDir, reported.join('\n'));
        throw corruption(StorageErrorCode.CorruptDatabase, dataDir, 'LevelDB', `dropped damaged records while recovering its write-ahead log (${reported[0]!.trim()})`);
      }
      return new LevelRaftStorage(repo, await initialise(repo, hadNoData), modules.syncedWrite);
    } catch (e) {
      await repo.close().catch(() => undefined);
      throw fsError(dataDir, e);
    }
  }

  get dataDir(): string {
    return this.repo.dataDir;
  }

  /** Reads and verifies everything: every checksum, the format, a log without holes, commit within the log. */
  async load(): Promise<StoredState> {
    this.checkOpen();
    await this.tail;
    const { hardState, snapshot, entries, applied } = verifyStore(this.dataDir, await this.repo.scan());
    return { hardState, snapshot, entries, applied };
  }

  persist(batch: LevelPersistBatch): Promise<void> {
    let write: RaftWriteBatch;
    try {
      this.checkOpen();
      write = this.plan(batch);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueue(write, batch.sync);
  }

  /** Stores the state machine's applied index, in order with the persists before it. */
  saveApplied(index: number, opts: { sync?: boolean } = {}): Promise<void> {
    return this.persist({ hardState: undefined, snapshot: undefined, entries: [], compaction: undefined, sync: opts.sync ?? false, applied: index });
  }

  /** Waits for every write issued before, then closes LevelDB. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    await this.repo.close();
  }

  /** The LevelDB operations of one batch, with the semantics of MemoryStorage.applyDurably. */
  private plan(b: LevelPersistBatch): RaftWriteBatch {
    let { hasSnapshot, snapshotIndex, lastIndex, hasHardState, hasApplied } = this.planned;
    const w = new RaftWriteBatch();
    // Stored entries are always exactly (snapshotIndex, lastIndex].
    if (b.snapshot) {
      w.deleteEntries(snapshotIndex + 1, lastIndex).putSnapshot(b.snapshot);
      hasSnapshot = true;
      snapshotIndex = lastIndex = this.index(b.snapshot.meta.index, 'snapshot index');
    }
    if (b.entries.length > 0) {
      const first = this.checkRun(b.entries);
      if (first <= snapshotIndex) throw this.invalid(`entry ${first} is behind the snapshot at ${snapshotIndex}`, first);
      if (first > lastIndex + 1) throw this.invalid(`entry ${first} leaves a gap after ${lastIndex}`, first);
      const last = first + b.entries.length - 1;
      w.deleteEntries(last + 1, lastIndex);
      for (const e of b.entries) w.putEntry(e);
      lastIndex = last;
    }
    if (b.hardState) {
      w.putHardState(b.hardState);
      hasHardState = true;
    }
    if (b.compaction && b.compaction.meta.index > snapshotIndex) {
      const at = this.index(b.compaction.meta.index, 'compaction index');
      w.deleteEntries(snapshotIndex + 1, Math.min(at, lastIndex)).putSnapshot(b.compaction);
      hasSnapshot = true;
      snapshotIndex = at;
      lastIndex = Math.max(lastIndex, at);
    }
    if (b.applied !== undefined) {
      w.putApplied(this.index(b.applied, 'applied index'));
      hasApplied = true;
    }
    if (w.size > 0) {
      this.planned = { hasSnapshot, snapshotIndex, lastIndex, hasHardState, hasApplied };
      w.putSummary(this.planned);
    }
    return w;
  }

  private enqueue(w: RaftWriteBatch, sync: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.failure) throw this.failure;
      try {
        if (sync && this.syncedWrite !== undefined) await this.syncedWrite(() => this.repo.write(w, sync));
        else await this.repo.write(w, sync);
      } catch (e) {
        const cause = levelError(this.dataDir, 'writing', e);
        this.failure = new StorageError(
          StorageErrorCode.WriteFailed,
          `writing the Raft log in ${this.dataDir} failed (${cause.message}); the store accepts no further writes: restart the replica`,
          { dataDir: this.dataDir },
          { cause },
        );
        throw this.failure;
      }
    };
    const done = this.tail.then(run);
    this.tail = done.catch(() => undefined);
    return done;
  }

  /** The index of the first entry, once the batch's entries are consecutive. */
  private checkRun(entries: readonly Entry[]): number {
    const first = this.index(entries[0]!.index, 'entry index');
    entries.forEach((e, i) => {
      if (e.index !== first + i) throw this.invalid(`entries are not consecutive: ${e.index} follows ${first + i - 1}`, e.index);
      this.index(e.term, 'entry term');
    });
    return first;
  }

  private index(v: number, what: string): number {
    if (!Number.isSafeInteger(v) || v < 0) throw this.invalid(`${what} ${v} is not a non-negative integer`);
    return v;
  }

  private invalid(why: string, index?: number): StorageError {
    const payload = index === undefined ? { dataDir: this.dataDir } : { dataDir: this.dataDir, index };
    return new StorageError(StorageErrorCode.InvalidBatch, `persist to ${this.dataDir} refused: ${why}`, payload);
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError(StorageErrorCode.Closed, `the Raft log store in ${this.dataDir} is closed`, { dataDir: this.dataDir });
  }
}

/** What must stop LevelDB from even opening the directory: an earlier quarantine, a damaged table or log. */
async function refuseDamagedFiles(dataDir: string): Promise<void> {
  const quarantined = await readQuarantine(dataDir);
  if (quarantined !== undefined) {
    throw corruption(StorageErrorCode.CorruptDatabase, dataDir, 'LevelDB', `reported corruption on an earlier start (${QUARANTINE_FILE}: ${quarantined.trim()})`);
  }
  await mkdir(dataDir, { recursive: true });
  // Before LevelDB reads a damaged table (which it may do silently wrong or by aborting the process)
  // or recovers a damaged log (whose records it may drop silently), while the evidence is still there.
  const damage = (await findTableDamage(dataDir)) ?? (await findLogDamage(dataDir));
  if (damage !== undefined) {
    throw corruption(StorageErrorCode.CorruptDatabase, dataDir, `LevelDB file ${damage.file}`, `is corrupt (${damage.problem})`);
  }
}

/** A file-system failure (not a directory, no permission, read-only) as a StorageError. */
function fsError(dataDir: string, e: unknown): StorageError {
  if (e instanceof StorageError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return new StorageError(StorageErrorCode.DatabaseError, `cannot use ${dataDir} for the Raft log: ${detail}`, { dataDir }, { cause: e });
}

/** The summary of an opened store; a new store gets its format record and an empty summary. */
async function initialise(repo: RaftRepository, hadNoData: boolean): Promise<StoreSummary> {
  const format = await repo.readFormat();
  if (format === undefined) {
    if (!(await repo.isEmpty())) checkFormat(repo.dataDir, undefined);
    if (!hadNoData) throw corruption(StorageErrorCode.CorruptDatabase, repo.dataDir, 'LevelDB', 'returns no records though its files hold data');
    const summary = EMPTY_SUMMARY;
    await repo.write(new RaftWriteBatch().putFormat().putSummary(summary), true);
    return summary;
  }
  checkFormat(repo.dataDir, format);
  const summary = await repo.readSummary();
  if (summary === undefined) throw corruption(StorageErrorCode.CorruptRecord, repo.dataDir, 'the store summary', 'is missing');
  return summary;
}
