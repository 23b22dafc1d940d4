import { mkdir } from 'node:fs/promises';
import { Level } from 'level';
import type { Entry, HardState, Snapshot } from '../raft/index.js';
import { DecodeError } from '../common/bytes.js';
import { corruption, StorageError, StorageErrorCode } from './errors.js';
import { entryKey, hex, KeyPrefix, parseKey, singletonKey } from './raft-keys.js';
import {
  appliedRecord,
  decodeApplied,
  decodeEntry,
  decodeFormat,
  decodeHardState,
  decodeSnapshotData,
  decodeSnapshotMeta,
  decodeSummary,
  entryRecord,
  formatRecord,
  hardStateRecord,
  snapshotDataRecord,
  snapshotMetaRecord,
  summaryRecord,
  type StoredRecord,
  type StoredSnapshotMeta,
  type StoreSummary,
} from './raft-records.js';

/**
 * Typed access to the LevelDB of a coordinator replica: the only module that
 * builds keys or talks to LevelDB. Every record it returns has passed its
 * checksum; how the records fit together is checked by the caller.
 */

type Db = Level<Uint8Array, Uint8Array>;
type Op = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

/** The operations of one atomic LevelDB write, in order (a later op on a key wins). */
export class RaftWriteBatch {
  readonly ops: Op[] = [];

  get size(): number {
    return this.ops.length;
  }

  putFormat(): this {
    return this.put(formatRecord());
  }

  putSummary(s: StoreSummary): this {
    return this.put(summaryRecord(s));
  }

  putHardState(hs: HardState): this {
    return this.put(hardStateRecord(hs));
  }

  putApplied(index: number): this {
    return this.put(appliedRecord(index));
  }

  putSnapshot(s: Snapshot): this {
    return this.put(snapshotMetaRecord(s.meta, s.data)).put(snapshotDataRecord(s.data));
  }

  putEntry(e: Entry): this {
    return this.put(entryRecord(e));
  }

  /** Deletes the stored entries with index in [from, to]. */
  deleteEntries(from: number, to: number): this {
    for (let i = from; i <= to; i++) this.ops.push({ type: 'del', key: entryKey(i) });
    return this;
  }

  private put(r: StoredRecord): this {
    this.ops.push({ type: 'put', key: r.key, value: r.value });
    return this;
  }
}

/** Every record of the store, each checksum-verified and decoded. */
export interface ScannedStore {
  format: number | undefined;
  summary: StoreSummary | undefined;
  hardState: HardState | undefined;
  applied: number | undefined;
  snapshotMeta: StoredSnapshotMeta | undefined;
  snapshotData: Uint8Array | undefined;
  /** In index order. */
  entries: Entry[];
}

/** Names a record in messages ("log entry 42 in /data/c1 is corrupt …"). */
const RECORD: Readonly<Record<KeyPrefix, { what: string; code: StorageErrorCode }>> = {
  [KeyPrefix.FormatVersion]: { what: 'the format record', code: StorageErrorCode.CorruptRecord },
  [KeyPrefix.Summary]: { what: 'the store summary', code: StorageErrorCode.CorruptRecord },
  [KeyPrefix.HardState]: { what: 'the hard state (term, vote, commit)', code: StorageErrorCode.CorruptHardState },
  [KeyPrefix.AppliedIndex]: { what: 'the applied index', code: StorageErrorCode.CorruptAppliedIndex },
  [KeyPrefix.SnapshotMeta]: { what: 'the snapshot metadata', code: StorageErrorCode.CorruptSnapshot },
  [KeyPrefix.SnapshotData]: { what: 'the snapshot data', code: StorageErrorCode.CorruptSnapshot },
  [KeyPrefix.Entry]: { what: 'a log entry', code: StorageErrorCode.CorruptEntry },
};

function codesOf(e: unknown): string[] {
  const codes: string[] = [];
  for (let c = e; c instanceof Error && codes.length < 8; c = c.cause) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  return codes;
}

/** A LevelDB failure as a StorageError naming the directory. */
export function levelError(dataDir: string, doing: string, e: unknown): StorageError {
  if (e instanceof StorageError) return e;
  const codes = codesOf(e);
  const detail = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
  if (codes.includes('LEVEL_CORRUPTION')) {
    return corruption(StorageErrorCode.CorruptDatabase, dataDir, 'LevelDB', `reports corruption while ${doing} (${detail})`, undefined, e);
  }
  if (codes.includes('LEVEL_LOCKED')) {
    return new StorageError(StorageErrorCode.DatabaseError, `${dataDir} is in use by another process (LevelDB lock held): ${detail}`, { dataDir }, { cause: e });
  }
  return new StorageError(StorageErrorCode.DatabaseError, `LevelDB failed ${doing} ${dataDir}: ${detail}`, { dataDir }, { cause: e });
}

export class RaftRepository {
  private constructor(
    readonly dataDir: string,
    private readonly db: Db,
  ) {}

  static async open(dataDir: string, opts: { writeBufferSizeBytes?: number } = {}): Promise<RaftRepository> {
    await mkdir(dataDir, { recursive: true });
    const db: Db = new Level<Uint8Array, Uint8Array>(dataDir, {
      keyEncoding: 'view',
      valueEncoding: 'view',
      // Uncompressed tables let leveldb-tables.ts parse them and verify every block checksum.
      compression: false,
      ...(opts.writeBufferSizeBytes === undefined ? {} : { writeBufferSize: opts.writeBufferSizeBytes }),
    });
    try {
      await db.open();
    } catch (e) {
      throw levelError(dataDir, 'opening', e);
    }
    return new RaftRepository(dataDir, db);
  }

  /** One atomic LevelDB batch; `sync` makes LevelDB fsync its log before resolving. */
  async write(batch: RaftWriteBatch, sync: boolean): Promise<void> {
    if (batch.size === 0) return;
    try {
      await this.db.batch(batch.ops, { sync });
    } catch (e) {
      throw levelError(this.dataDir, 'writing', e);
    }
  }

  async readFormat(): Promise<number | undefined> {
    return this.readSingleton(KeyPrefix.FormatVersion, decodeFormat);
  }

  async readSummary(): Promise<StoreSummary | undefined> {
    return this.readSingleton(KeyPrefix.Summary, decodeSummary);
  }

  async isEmpty(): Promise<boolean> {
    try {
      const keys = await this.db.keys({ limit: 1 }).all();
      return keys.length === 0;
    } catch (e) {
      throw levelError(this.dataDir, 'reading', e);
    }
  }

  async scan(): Promise<ScannedStore> {
    const s: ScannedStore = {
      format: undefined,
      summary: undefined,
      hardState: undefined,
      applied: undefined,
      snapshotMeta: undefined,
      snapshotData: undefined,
      entries: [],
    };
    try {
      for await (const [key, value] of this.db.iterator()) {
        const k = parseKey(key);
        if (k === undefined) {
          throw corruption(StorageErrorCode.CorruptRecord, this.dataDir, `a record with key 0x${hex(key)}`, 'is not one this store writes (damaged key)');
        }
        switch (k.prefix) {
          case KeyPrefix.Entry:
            s.entries.push(this.decode(k.prefix, () => decodeEntry(k.index, value), k.index));
            break;
          case KeyPrefix.FormatVersion:
            s.format = this.decode(k.prefix, () => decodeFormat(value));
            break;
          case KeyPrefix.Summary:
            s.summary = this.decode(k.prefix, () => decodeSummary(value));
            break;
          case KeyPrefix.HardState:
            s.hardState = this.decode(k.prefix, () => decodeHardState(value));
            break;
          case KeyPrefix.AppliedIndex:
            s.applied = this.decode(k.prefix, () => decodeApplied(value));
            break;
          case KeyPrefix.SnapshotMeta:
            s.snapshotMeta = this.decode(k.prefix, () => decodeSnapshotMeta(value));
            break;
          case KeyPrefix.SnapshotData:
            s.snapshotData = this.decode(k.prefix, () => decodeSnapshotData(value));
            break;
        }
      }
    } catch (e) {
      throw levelError(this.dataDir, 'reading', e);
    }
    return s;
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  private async readSingleton<T>(prefix: Exclude<KeyPrefix, KeyPrefix.Entry>, decode: (v: Uint8Array) => T): Promise<T | undefined> {
    let value: Uint8Array | undefined;
    try {
      value = (await this.db.get(singletonKey(prefix))) as Uint8Array | undefined;
    } catch (e) {
      throw levelError(this.dataDir, 'reading', e);
    }
    return value === undefined ? undefined : this.decode(prefix, () => decode(value));
  }

  private decode<T>(prefix: KeyPrefix, fn: () => T, index?: number): T {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      const { what, code } = RECORD[prefix];
      const name = index === undefined ? what : `log entry ${index}`;
      throw corruption(code, this.dataDir, name, `is corrupt (${e.message})`, index, e);
    }
  }
}
