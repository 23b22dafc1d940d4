import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Level } from 'level';
import { LevelRaftStorage, StorageError, StorageErrorCode } from '../../src/storage/index.js';
import { entryKey, KeyPrefix, singletonKey } from '../../src/storage/raft-keys.js';
import { formatRecord, hardStateRecord, snapshotDataRecord } from '../../src/storage/raft-records.js';
import { batch, bytes, entries, hardState, rawDb, snapshot, useTempDirs } from './helpers.js';

const dirs = useTempDirs();

/** A fresh store with a snapshot at 10, entries 11..60, commit 55, applied 50; closed. */
async function writeStore(): Promise<void> {
  rmSync(dirs.dir(), { recursive: true, force: true });
  const s = await dirs.open();
  await s.persist(batch({ entries: entries(1, 60, 1), hardState: hardState(1, 55) }));
  await s.persist(batch({ compaction: snapshot(10, 1, 200), applied: 50 }));
  await s.close();
}

/** Changes the store's LevelDB directly, as damage would, then closes it. */
async function tamper(fn: (db: Level<Uint8Array, Uint8Array>) => Promise<void>): Promise<void> {
  const db = await rawDb(dirs.dir());
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

async function loadError(): Promise<StorageError> {
  let e: unknown;
  let s: LevelRaftStorage | undefined;
  try {
    s = await LevelRaftStorage.open(dirs.dir());
    await s.load();
  } catch (x) {
    e = x;
  } finally {
    await s?.close();
  }
  expect(e).toBeInstanceOf(StorageError);
  return e as StorageError;
}

async function expectRefusal(code: StorageErrorCode, index?: number): Promise<StorageError> {
  const e = await loadError();
  expect(e.code, e.message).toBe(code);
  expect(e.payload.dataDir).toBe(dirs.dir());
  expect(e.message).toContain(dirs.dir());
  expect(e.message).toContain('refusing to start');
  if (index !== undefined) {
    expect(e.payload.index).toBe(index);
    expect(e.message).toContain(`log entry ${index} `);
  }
  return e;
}

describe('LevelRaftStorage: detects damaged records on load', () => {
  it('an entry with one byte flipped: CORRUPT_ENTRY naming the index and the directory', async () => {
    await writeStore();
    await tamper(async (db) => {
      const value = (await db.get(entryKey(42)))!;
      const bad = value.slice();
      bad[value.length - 3]! ^= 0x01;
      await db.put(entryKey(42), bad);
    });
    const e = await expectRefusal(StorageErrorCode.CorruptEntry, 42);
    expect(e.message).toBe(
      `log entry 42 in ${dirs.dir()} is corrupt (checksum mismatch); refusing to start: restore this replica from a snapshot or wipe it and rejoin`,
    );
  });

  it('an entry moved to another index: its checksum covers the key', async () => {
    await writeStore();
    await tamper(async (db) => db.put(entryKey(43), (await db.get(entryKey(42)))!));
    await expectRefusal(StorageErrorCode.CorruptEntry, 43);
  });

  it('an entry deleted in the middle: MISSING_ENTRY', async () => {
    await writeStore();
    await tamper((db) => db.del(entryKey(30)));
    const e = await expectRefusal(StorageErrorCode.MissingEntry, 30);
    expect(e.message).toContain('jumps from 29 to 31');
  });

  it('the last entry deleted: MISSING_ENTRY (the summary knows where the log ends)', async () => {
    await writeStore();
    await tamper((db) => db.del(entryKey(60)));
    await expectRefusal(StorageErrorCode.MissingEntry, 60);
  });

  it('a truncated value is corruption, not a crash', async () => {
    for (const cut of [0, 2, 7, 20]) {
      await writeStore();
      await tamper(async (db) => db.put(entryKey(20), (await db.get(entryKey(20)))!.subarray(0, cut)));
      await expectRefusal(StorageErrorCode.CorruptEntry, 20);
    }
  });

  it('an entry left behind the snapshot: CORRUPT_ENTRY', async () => {
    await writeStore();
    await tamper(async (db) => db.put(entryKey(5), (await db.get(entryKey(11)))!));
    await expectRefusal(StorageErrorCode.CorruptEntry);
  });

  it('hard state: flipped, deleted, or with commit beyond the log', async () => {
    await writeStore();
    await tamper(async (db) => {
      const v = (await db.get(singletonKey(KeyPrefix.HardState)))!.slice();
      v[5]! ^= 0xff;
      await db.put(singletonKey(KeyPrefix.HardState), v);
    });
    await expectRefusal(StorageErrorCode.CorruptHardState);

    await writeStore();
    await tamper((db) => db.del(singletonKey(KeyPrefix.HardState)));
    expect((await expectRefusal(StorageErrorCode.CorruptHardState)).message).toContain('missing');

    await writeStore();
    const r = hardStateRecord(hardState(1, 61));
    await tamper((db) => db.put(r.key, r.value));
    expect((await expectRefusal(StorageErrorCode.CorruptHardState)).message).toContain('commit 61 beyond the last log entry 60');
  });

  it('snapshot: flipped data, missing data, or the data of another snapshot', async () => {
    await writeStore();
    await tamper(async (db) => {
      const v = (await db.get(singletonKey(KeyPrefix.SnapshotData)))!.slice();
      v[100]! ^= 0x01;
      await db.put(singletonKey(KeyPrefix.SnapshotData), v);
    });
    await expectRefusal(StorageErrorCode.CorruptSnapshot);

    await writeStore();
    await tamper((db) => db.del(singletonKey(KeyPrefix.SnapshotData)));
    await expectRefusal(StorageErrorCode.CorruptSnapshot);

    await writeStore();
    const other = snapshotDataRecord(bytes(200, 5));
    await tamper((db) => db.put(other.key, other.value));
    expect((await expectRefusal(StorageErrorCode.CorruptSnapshot)).message).toContain('does not match its metadata');
  });

  it('a key this format never writes: CORRUPT_RECORD', async () => {
    await writeStore();
    await tamper((db) => db.put(Uint8Array.of(0x11, 0, 0, 0, 0, 0, 0, 0, 1), Uint8Array.of(1, 2, 3)));
    expect((await expectRefusal(StorageErrorCode.CorruptRecord)).message).toContain('0x110000000000000001');
  });

  it('a missing summary is refused at open', async () => {
    await writeStore();
    await tamper((db) => db.del(singletonKey(KeyPrefix.Summary)));
    await expectRefusal(StorageErrorCode.CorruptRecord);
  });

  it('another format version, or a LevelDB that is not a Raft log store: UNSUPPORTED_FORMAT', async () => {
    await writeStore();
    const v2 = formatRecord(2);
    await tamper((db) => db.put(v2.key, v2.value));
    expect((await expectRefusal(StorageErrorCode.UnsupportedFormat)).message).toContain('version 2');

    await tamper(async (db) => {
      await db.clear();
      await db.put(new TextEncoder().encode('shard/0/key'), new TextEncoder().encode('value'));
    });
    expect((await expectRefusal(StorageErrorCode.UnsupportedFormat)).message).toContain('no format record');
  });

  it('a store whose every record vanished is not taken for a new one', async () => {
    await writeStore();
    await tamper((db) => db.clear());
    const e = await expectRefusal(StorageErrorCode.CorruptDatabase);
    expect(e.message).toContain('no records though its files hold data');
  });

  it('a damaged store stays refused on every later start', async () => {
    await writeStore();
    await tamper((db) => db.del(entryKey(30)));
    await expectRefusal(StorageErrorCode.MissingEntry);
    await expectRefusal(StorageErrorCode.MissingEntry);
  });
});
