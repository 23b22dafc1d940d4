/**
 * A data node's LevelDB: every shard copy's keys and metadata. The only
 * module that builds keys or talks to LevelDB. Callers serialise the writes
 * of one shard (ShardLocks); this module keeps each write atomic.
 */
import { mkdir } from 'node:fs/promises';
import { Level, type Iterator as LevelIterator } from 'level';
import { DecodeError } from '../../common/bytes.js';
import { levelError } from '../../storage/raft-repository.js';
import { StorageError, StorageErrorCode } from '../../storage/errors.js';
import { dataKey, dataRange, FORMAT_KEY, META_RANGE, metaKey, shardOfMetaKey, userKeyOf } from './shard-keys.js';
import { decodeMeta, encodeMeta, type ShardMeta } from './shard-meta.js';

type Db = Level<Uint8Array, Uint8Array>;
type Op = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

/** One write to a shard's data: `value: null` deletes the key. */
export interface DataOp {
  readonly key: string;
  readonly value: Uint8Array | null;
}

export interface StoredEntry {
  readonly key: string;
  readonly value: Uint8Array;
}

export type ReadSnapshot = ReturnType<Db['snapshot']>;

const FORMAT_VERSION = Uint8Array.of(1);
/** Deletes per LevelDB batch when a whole copy is dropped: bounded memory whatever the shard's size. */
const DELETE_BATCH = 1_000;

export class ShardStore {
  private constructor(
    readonly dir: string,
    private readonly db: Db,
  ) {}

  /** Opens (creating it and its directory if needed) the store in `dir`. */
  static async open(dir: string): Promise<ShardStore> {
    await mkdir(dir, { recursive: true });
    const db: Db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    try {
      await db.open();
    } catch (e) {
      throw levelError(dir, 'opening', e);
    }
    const store = new ShardStore(dir, db);
    try {
      await store.checkFormat();
    } catch (e) {
      await db.close().catch(() => undefined);
      throw e;
    }
    return store;
  }

  /** Every copy's metadata, by shard id. */
  async loadMetas(): Promise<Map<number, ShardMeta>> {
    const metas = new Map<number, ShardMeta>();
    try {
      for await (const [key, value] of this.db.iterator(META_RANGE)) {
        const shard = shardOfMetaKey(key);
        if (shard === undefined) throw this.corrupt(`a metadata key of ${key.length} bytes`);
        metas.set(shard, this.decode(shard, value));
      }
    } catch (e) {
      throw levelError(this.dir, 'reading shard metadata of', e);
    }
    return metas;
  }

  /** A consistent view of everything written so far, taken now (synchronously). Close it when done. */
  snapshot(): ReadSnapshot {
    return this.db.snapshot();
  }

  async get(shard: number, key: string, snapshot?: ReadSnapshot): Promise<Uint8Array | null> {
    try {
      const value = await this.db.get(dataKey(shard, key), snapshot === undefined ? {} : { snapshot });
      return value ?? null;
    } catch (e) {
      throw levelError(this.dir, `reading shard ${shard} of`, e);
    }
  }

  /** The copy's key count after `ops` (read before writing them; the caller holds the shard's lock). */
  async keyCountAfter(shard: number, ops: readonly DataOp[], before: number): Promise<number> {
    const last = new Map<string, boolean>();
    for (const op of ops) last.set(op.key, op.value !== null);
    const keys = [...last.keys()];
    let existing: boolean[];
    try {
      // Only whether each key exists: hasMany copies no values (half the CPU of getMany at 32 keys).
      existing = await this.db.hasMany(keys.map((k) => dataKey(shard, k)));
    } catch (e) {
      throw levelError(this.dir, `reading shard ${shard} of`, e);
    }
    let count = before;
    keys.forEach((k, i) => {
      const had = existing[i] === true;
      const has = last.get(k)!;
      count += Number(has) - Number(had);
    });
    return count;
  }

  /** The ops and the copy's new metadata as one atomic LevelDB write (`sync`: fsynced before it resolves). */
  async write(shard: number, ops: readonly DataOp[], meta: ShardMeta, sync: boolean): Promise<void> {
    const batch: Op[] = ops.map((op) =>
      op.value === null ? { type: 'del', key: dataKey(shard, op.key) } : { type: 'put', key: dataKey(shard, op.key), value: op.value },
    );
    batch.push({ type: 'put', key: metaKey(shard), value: encodeMeta(meta) });
    try {
      await this.db.batch(batch, { sync });
    } catch (e) {
      throw levelError(this.dir, `writing shard ${shard} to`, e);
    }
  }

  /** An iterator over one shard's entries in key order, reading `snapshot`. */
  entries(shard: number, snapshot: ReadSnapshot): ShardCursor {
    return new ShardCursor(this.db.iterator({ ...dataRange(shard), snapshot }));
  }

  /** Deletes every key of the copy, in bounded batches, then its metadata. */
  async dropShard(shard: number): Promise<number> {
    let deleted = 0;
    try {
      for (;;) {
        const keys = await this.db.keys({ ...dataRange(shard), limit: DELETE_BATCH }).all();
        if (keys.length === 0) break;
        await this.db.batch(keys.map((key) => ({ type: 'del' as const, key })));
        deleted += keys.length;
      }
      await this.db.del(metaKey(shard), { sync: true });
    } catch (e) {
      throw levelError(this.dir, `deleting shard ${shard} from`, e);
    }
    return deleted;
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  private async checkFormat(): Promise<void> {
    let format: Uint8Array | undefined;
    try {
      format = await this.db.get(FORMAT_KEY);
    } catch (e) {
      throw levelError(this.dir, 'reading', e);
    }
    if (format === undefined) {
      const empty = (await this.db.keys({ limit: 1 }).all()).length === 0;
      if (!empty) throw new StorageError(StorageErrorCode.UnsupportedFormat, `${this.dir} holds data but no format record: not a data node store`, { dataDir: this.dir });
      await this.db.put(FORMAT_KEY, FORMAT_VERSION, { sync: true });
      return;
    }
    if (format.length !== 1 || format[0] !== FORMAT_VERSION[0]) {
      throw new StorageError(StorageErrorCode.UnsupportedFormat, `${this.dir} holds data node store format ${format[0]}, this build reads ${FORMAT_VERSION[0]}`, { dataDir: this.dir });
    }
  }

  private decode(shard: number, value: Uint8Array): ShardMeta {
    try {
      return decodeMeta(value);
    } catch (e) {
      if (e instanceof DecodeError) throw this.corrupt(`the metadata of shard ${shard} (${e.message})`);
      throw e;
    }
  }

  private corrupt(what: string): StorageError {
    return new StorageError(StorageErrorCode.CorruptRecord, `${what} in ${this.dir} is corrupt; refusing to start: wipe this node's directory and let it re-copy its shards`, { dataDir: this.dir });
  }
}

/** Reads one shard's entries page by page, each page capped in entries and bytes (one entry always fits). */
export class ShardCursor {
  private held: StoredEntry | undefined;
  private ended = false;

  constructor(private readonly it: LevelIterator<Db, Uint8Array, Uint8Array>) {}

  get done(): boolean {
    return this.ended && this.held === undefined;
  }

  async page(limit: number, maxBytes: number): Promise<StoredEntry[]> {
    const out: StoredEntry[] = [];
    let bytes = 0;
    while (out.length < limit) {
      const next = this.held ?? (await this.read());
      this.held = undefined;
      if (next === undefined) break;
      const size = next.key.length + next.value.length;
      if (out.length > 0 && bytes + size > maxBytes) {
        this.held = next;
        break;
      }
      out.push(next);
      bytes += size;
    }
    return out;
  }

  async close(): Promise<void> {
    this.ended = true;
    await this.it.close();
  }

  private async read(): Promise<StoredEntry | undefined> {
    if (this.ended) return undefined;
    const kv = await this.it.next();
    if (kv === undefined) {
      this.ended = true;
      return undefined;
    }
    return { key: userKeyOf(kv[0]), value: kv[1] };
  }
}
