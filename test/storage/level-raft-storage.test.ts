import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Level } from 'level';
import { describe, expect, it, vi, afterEach } from 'vitest';
import { EntryType } from '../../src/raft/index.js';
import { LevelRaftStorage, MemoryStorage, StorageError, StorageErrorCode, type LevelPersistBatch } from '../../src/storage/index.js';
import { applyToModel, batch, entries, entry, hardState, snapshot, useTempDirs } from './helpers.js';

const dirs = useTempDirs();

afterEach(() => {
  vi.restoreAllMocks();
});

/** Applies the batches to a LevelRaftStorage and a MemoryStorage; returns both loads (applied tracked for memory by hand). */
async function both(batches: LevelPersistBatch[]) {
  const level = await dirs.open();
  const memory = new MemoryStorage();
  let applied = 0;
  for (const b of batches) {
    await level.persist(b);
    applyToModel(memory, b);
    if (b.applied !== undefined) applied = b.applied;
  }
  return { level: await level.load(), memory: { ...(await memory.load()), applied } };
}

describe('LevelRaftStorage: round trips', () => {
  it('starts empty, creating its directory', async () => {
    const dir = path.join(dirs.dir(), 'data', 'c1');
    const s = await dirs.open(dir);
    expect(existsSync(dir)).toBe(true);
    expect(await s.load()).toEqual({ hardState: { term: 0, vote: '', commit: 0 }, snapshot: undefined, entries: [], applied: 0 });
  });

  const cases: [string, LevelPersistBatch[]][] = [
    ['entries', [batch({ entries: entries(1, 5, 1) }), batch({ entries: entries(6, 8, 2) })]],
    ['hard state', [batch({ hardState: hardState(3, 0, 'c2') }), batch({ hardState: hardState(4, 0, '') })]],
    ['entries replacing a suffix (the stale tail is deleted)', [batch({ entries: entries(1, 10, 1) }), batch({ entries: entries(6, 7, 2) })]],
    ['entries replacing a suffix with a longer one', [batch({ entries: entries(1, 4, 1) }), batch({ entries: entries(3, 9, 3) })]],
    ['all entry types and empty data', [batch({ entries: [entry(1, 1, 0, EntryType.Noop), entry(2, 1, 40, EntryType.ConfChange), entry(3, 1, 1000)] })]],
    ['a leader snapshot behind the log (replaces it)', [batch({ entries: entries(1, 10, 1) }), batch({ snapshot: snapshot(5, 1) })]],
    ['a leader snapshot beyond the log, then entries after it', [batch({ entries: entries(1, 3, 1) }), batch({ snapshot: snapshot(20, 2) }), batch({ entries: entries(21, 23, 2) })]],
    ['compaction', [batch({ entries: entries(1, 10, 1) }), batch({ compaction: snapshot(4, 1) })]],
    ['an older compaction (ignored)', [batch({ entries: entries(1, 10, 1) }), batch({ compaction: snapshot(6, 1) }), batch({ compaction: snapshot(3, 1) })]],
    ['a compaction beyond the log', [batch({ entries: entries(1, 3, 1) }), batch({ compaction: snapshot(15, 1) })]],
    [
      'every kind in one batch',
      [
        batch({ entries: entries(1, 10, 1), hardState: hardState(1, 2) }),
        batch({ snapshot: snapshot(8, 2), entries: entries(9, 14, 3), hardState: hardState(3, 12, 'c3'), compaction: snapshot(11, 3), applied: 11 }),
      ],
    ],
    ['applied index', [batch({ entries: entries(1, 3, 1), applied: 2 }), batch({ applied: 3, sync: false })]],
    ['an empty batch', [batch({ entries: entries(1, 2, 1) }), batch({})]],
  ];
  it.each(cases)('%s: same state as MemoryStorage', async (_, batches) => {
    const { level, memory } = await both(batches);
    expect(level).toEqual(memory);
  });

  it('spells out one case: snapshot, entries, compaction and hard state together', async () => {
    const { level } = await both(cases.find(([name]) => name === 'every kind in one batch')![1]);
    expect(level.snapshot).toEqual(snapshot(11, 3));
    expect(level.entries.map((e) => [e.index, e.term])).toEqual([
      [12, 3],
      [13, 3],
      [14, 3],
    ]);
    expect(level.hardState).toEqual(hardState(3, 12, 'c3'));
    expect(level.applied).toBe(11);
  });

  it('saveApplied stores the applied index in order with the persists', async () => {
    const s = await dirs.open();
    const done = [s.persist(batch({ entries: entries(1, 3, 1) })), s.saveApplied(2), s.saveApplied(3, { sync: true })];
    await Promise.all(done);
    expect((await s.load()).applied).toBe(3);
  });

  it('gives the same state after close and reopen, twice (write-ahead log, then table)', async () => {
    const s = await dirs.open();
    await s.persist(batch({ entries: entries(1, 20, 1), hardState: hardState(1, 5) }));
    await s.persist(batch({ compaction: snapshot(7, 1), applied: 7 }));
    const before = await s.load();
    await s.close();
    for (let i = 0; i < 2; i++) {
      const again = await dirs.open();
      expect(await again.load()).toEqual(before);
      await again.close();
    }
  });

  it('with a small write buffer, moves the log into tables while open; a reopen verifies and reads them', async () => {
    const dir = dirs.dir();
    const s = await dirs.open(dir, { writeBufferSizeBytes: 64 * 1024 });
    for (let i = 0; i < 40; i++) await s.persist(batch({ entries: entries(i * 25 + 1, i * 25 + 25, 1, 400), hardState: hardState(1, i * 25), sync: false }));
    const before = await s.load();
    await s.close();
    expect(readdirSync(dir).filter((f) => f.endsWith('.ldb')).length).toBeGreaterThan(1);
    const again = await dirs.open(dir);
    expect(await again.load()).toEqual(before);
    expect(before.entries).toHaveLength(1000);
    // Real compactions and a verifying reopen: well under a second alone, several on a loaded 2-core machine.
  }, 30_000);

  it('continues after a reopen from the stored bounds (a truncation still deletes the stale tail)', async () => {
    const memory = new MemoryStorage();
    const first = [batch({ snapshot: snapshot(4, 1) }), batch({ entries: entries(5, 12, 1) })];
    const s = await dirs.open();
    for (const b of first) {
      await s.persist(b);
      applyToModel(memory, b);
    }
    await s.close();
    const again = await dirs.open();
    const next = batch({ entries: entries(8, 9, 2) });
    await again.persist(next);
    applyToModel(memory, next);
    expect(await again.load()).toEqual({ ...(await memory.load()), applied: 0 });
  });
});

describe('LevelRaftStorage: the persist contract', () => {
  it('rejects an entry behind the snapshot, a gap and non-consecutive entries, and stays usable', async () => {
    const s = await dirs.open();
    await s.persist(batch({ snapshot: snapshot(5, 1), entries: entries(6, 8, 1) }));
    const before = await s.load();
    const refused = async (b: LevelPersistBatch) => {
      const e = await s.persist(b).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(StorageError);
      expect((e as StorageError).code).toBe(StorageErrorCode.InvalidBatch);
    };
    await refused(batch({ entries: entries(5, 6, 1) }));
    await refused(batch({ entries: entries(10, 11, 1) }));
    await refused(batch({ entries: [entry(9, 1), entry(11, 1)] }));
    await refused(batch({ applied: -1 }));
    expect(await s.load()).toEqual(before);
    await s.persist(batch({ entries: entries(9, 9, 1) }));
    expect((await s.load()).entries.at(-1)?.index).toBe(9);
  });

  it('applies pipelined persists in call order, each resolving only once its own write is done', async () => {
    const proto = Level.prototype as unknown as { _batch(ops: unknown[], o: unknown): Promise<void> };
    const original = proto._batch;
    let written = 0;
    vi.spyOn(proto, '_batch').mockImplementation(async function (this: unknown, ops, o) {
      await original.call(this, ops, o);
      written++;
    });
    const s = await dirs.open();
    written = 0; // the format record written on creation
    const memory = new MemoryStorage();
    const batches: LevelPersistBatch[] = [];
    for (let i = 1; i <= 30; i++) {
      // Each batch rewrites the tail the one before wrote, so applying them out of order gives another log.
      const from = Math.max(1, i - 3);
      batches.push(batch({ entries: entries(from, i, i), hardState: hardState(i, from - 1), sync: i % 2 === 0 }));
      if (i % 10 === 0) batches.push(batch({ compaction: snapshot(i - 5, i - 5) }));
    }
    const resolved: number[] = [];
    const writtenWhenResolved: number[] = [];
    const pending = batches.map((b, i) =>
      s.persist(b).then(() => {
        resolved.push(i);
        writtenWhenResolved.push(written);
      }),
    );
    for (const b of batches) applyToModel(memory, b);
    await Promise.all(pending);
    expect(resolved).toEqual(batches.map((_, i) => i));
    writtenWhenResolved.forEach((w, i) => expect(w).toBeGreaterThanOrEqual(i + 1));
    expect(await s.load()).toEqual({ ...(await memory.load()), applied: 0 });
  });

  it('after a failed write refuses every later one, since they were planned on it', async () => {
    const s = await dirs.open();
    await s.persist(batch({ entries: entries(1, 3, 1) }));
    const proto = Level.prototype as unknown as { _batch(ops: unknown[], o: unknown): Promise<void> };
    vi.spyOn(proto, '_batch').mockRejectedValueOnce(new Error('IO error: disk full'));
    const first = s.persist(batch({ entries: entries(4, 5, 1) }));
    const second = s.persist(batch({ entries: entries(6, 6, 1) }));
    await expect(first).rejects.toMatchObject({ code: StorageErrorCode.WriteFailed, payload: { dataDir: s.dataDir } });
    await expect(second).rejects.toMatchObject({ code: StorageErrorCode.WriteFailed });
    await expect(s.persist(batch({ hardState: hardState(2, 0) }))).rejects.toMatchObject({ code: StorageErrorCode.WriteFailed });
    expect((await s.load()).entries.map((e) => e.index)).toEqual([1, 2, 3]);
  });

  it('passes sync to LevelDB exactly as the batch asks (checked where the options reach the native binding)', async () => {
    const s = await dirs.open();
    const proto = Level.prototype as unknown as { _batch(ops: unknown[], o: { sync?: boolean }): Promise<void> };
    const spy = vi.spyOn(proto, '_batch');
    await s.persist(batch({ entries: entries(1, 1, 1), sync: true }));
    await s.persist(batch({ hardState: hardState(1, 1), sync: false }));
    await s.saveApplied(1);
    await s.saveApplied(1, { sync: true });
    expect(spy.mock.calls.map((c) => c[1].sync)).toEqual([true, false, false, true]);
    // One LevelDB batch per persist: the entry, its summary, nothing else.
    expect(spy.mock.calls[0]![0]).toHaveLength(2);
  });

  it('close waits for pending writes; afterwards every call is refused', async () => {
    const s = await dirs.open();
    void s.persist(batch({ entries: entries(1, 50, 1) }));
    await s.close();
    await expect(s.persist(batch({ hardState: hardState(1, 0) }))).rejects.toMatchObject({ code: StorageErrorCode.Closed });
    await expect(s.load()).rejects.toMatchObject({ code: StorageErrorCode.Closed });
    const again = await dirs.open();
    expect((await again.load()).entries).toHaveLength(50);
  });

  it('refuses a second open of the same directory while the first holds it', async () => {
    await dirs.open();
    await expect(LevelRaftStorage.open(dirs.dir())).rejects.toMatchObject({ code: StorageErrorCode.DatabaseError, payload: { dataDir: dirs.dir() } });
  });
});
