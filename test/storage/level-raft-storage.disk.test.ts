// Damage to LevelDB's own files, as a disk would do it: one byte flipped in
// a write-ahead log (.log) or a table (.ldb) of a closed store. Whatever the
// byte, the store must either refuse with a StorageError naming the directory
// or return exactly what was written: never other data, never a crash.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LevelRaftStorage, MemoryStorage, StorageError, StorageErrorCode, type LevelPersistBatch, type StoredState } from '../../src/storage/index.js';
import { crc32c } from '../../src/storage/crc32c.js';
import { QUARANTINE_FILE } from '../../src/storage/leveldb-files.js';
import { applyToModel, batch, entries, hardState, snapshot, useTempDirs } from './helpers.js';

const dirs = useTempDirs();

/** Many small synced batches: one write-ahead log record each. */
function storeBatches(): LevelPersistBatch[] {
  const bs: LevelPersistBatch[] = [];
  for (let i = 1; i <= 40; i++) {
    bs.push(batch({ entries: entries(i, i, 1 + (i >> 4), 24), hardState: hardState(1 + (i >> 4), i - 1, 'c2'), applied: Math.max(0, i - 3) }));
  }
  bs.push(batch({ compaction: snapshot(12, 1, 150), entries: entries(38, 40, 7, 8) }));
  return bs;
}

/** Writes the batches and closes the store; returns what load() gave. */
async function writeStore(dir: string, batches = storeBatches()): Promise<StoredState> {
  const s = await LevelRaftStorage.open(dir);
  try {
    for (const b of batches) await s.persist(b);
    return await s.load();
  } finally {
    await s.close();
  }
}

function filesOf(dir: string, ext: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(ext) && statSync(path.join(dir, f)).size > 0);
}

type Outcome = { kind: 'same' } | { kind: 'refused'; error: StorageError };

async function tryLoad(dir: string): Promise<Outcome | { kind: 'loaded'; got: StoredState } | { kind: 'other'; error: unknown }> {
  let s: LevelRaftStorage | undefined;
  try {
    s = await LevelRaftStorage.open(dir);
    const got = await s.load();
    return { kind: 'loaded', got };
  } catch (error) {
    return error instanceof StorageError ? { kind: 'refused', error } : { kind: 'other', error };
  } finally {
    await s?.close().catch(() => undefined);
  }
}

/**
 * Flips every byte of every `match`ing file, one trial each (a fresh copy of
 * the files), alternating the flip masks; a few trials at a time, since each
 * mostly waits for LevelDB's fsyncs. Returns how many trials were refused.
 */
async function flipEvery(pristine: string, original: StoredState, match: (file: string) => boolean): Promise<{ trials: number; refused: number }> {
  const names = readdirSync(pristine).filter((f) => f !== 'LOCK');
  const files = new Map(names.map((f) => [f, readFileSync(path.join(pristine, f))]));
  const trials = names.filter(match).flatMap((file) => Array.from({ length: files.get(file)!.length }, (_, pos) => ({ file, pos })));
  let refused = 0;
  const runTrial = async ({ file, pos }: { file: string; pos: number }, n: number) => {
    const dir = path.join(dirs.dir(), `trial-${n}`);
    mkdirSync(dir);
    for (const [name, bytes] of files) {
      const copy = Buffer.from(bytes);
      if (name === file) copy[pos]! ^= pos % 2 === 0 ? 0xff : 0x01;
      writeFileSync(path.join(dir, name), copy);
    }
    const outcome = await tryLoad(dir);
    const where = `${file} byte ${pos}`;
    if (outcome.kind === 'loaded') {
      expect(outcome.got, `${where}: load returned other data`).toEqual(original);
    } else {
      expect(outcome.kind, `${where}: ${String((outcome as { error: unknown }).error)}`).toBe('refused');
      const e = (outcome as { error: StorageError }).error;
      expect(e.payload.dataDir, where).toBe(dir);
      expect(e.message, where).toContain(dir);
      refused++;
    }
  };
  const CONCURRENT = 8;
  for (let i = 0; i < trials.length; i += CONCURRENT) {
    await Promise.all(trials.slice(i, i + CONCURRENT).map((t, k) => runTrial(t, i + k)));
  }
  return { trials: trials.length, refused };
}

/** A few batches with every kind of record, so that trying every byte stays quick. */
function smallBatches(): LevelPersistBatch[] {
  return [
    batch({ entries: entries(1, 4, 1, 12), hardState: hardState(1, 0, 'c1') }),
    batch({ entries: entries(3, 6, 2, 12), hardState: hardState(2, 4, 'c2'), applied: 2 }),
    batch({ compaction: snapshot(3, 2, 40), applied: 3 }),
    batch({ snapshot: snapshot(8, 3, 40), hardState: hardState(3, 8, '') }),
    batch({ entries: entries(9, 10, 3, 12), hardState: hardState(3, 9, ''), sync: false }),
  ];
}

describe('LevelRaftStorage: a flipped byte in LevelDB files', () => {
  it('any byte of the write-ahead log or MANIFEST: refused or unchanged, never different', async () => {
    const pristine = path.join(dirs.dir(), 'pristine');
    const original = await writeStore(pristine, smallBatches());
    expect(filesOf(pristine, '.log')).toHaveLength(1);
    const { trials, refused } = await flipEvery(pristine, original, (f) => f.endsWith('.log') || f.startsWith('MANIFEST-'));
    expect(trials).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(trials * 0.9);
  }, 60_000);

  it('any byte of a table or MANIFEST: refused or unchanged, never different', async () => {
    const pristine = path.join(dirs.dir(), 'pristine');
    const original = await writeStore(pristine, smallBatches());
    // Reopening turns the write-ahead log into a table.
    await (await LevelRaftStorage.open(pristine)).close();
    expect(filesOf(pristine, '.ldb')).toHaveLength(1);
    expect(filesOf(pristine, '.log')).toHaveLength(0);
    const { trials, refused } = await flipEvery(pristine, original, (f) => f.endsWith('.ldb') || f.startsWith('MANIFEST-'));
    expect(trials).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(trials * 0.9);
  }, 60_000);

  it('damage only LevelDB notices (it drops the record) keeps the store refused, though LevelDB rewrote its files', async () => {
    const dir = dirs.dir();
    await writeStore(dir, smallBatches());
    // Turn the second record from "full" into "middle of a fragmented record", with a valid checksum:
    // every record checks out on its own, but LevelDB drops it as a fragment without a start.
    const [log] = filesOf(dir, '.log');
    const bytes = readFileSync(path.join(dir, log!));
    const second = 7 + bytes.readUInt16LE(4);
    bytes[second + 6] = 3;
    const crc = crc32c(bytes.subarray(second + 6, second + 7 + bytes.readUInt16LE(second + 4)));
    bytes.writeUInt32LE((((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0, second);
    writeFileSync(path.join(dir, log!), bytes);

    const first = await tryLoad(dir);
    expect(first.kind).toBe('refused');
    expect((first as { error: StorageError }).error.code).toBe(StorageErrorCode.CorruptDatabase);
    expect((first as { error: StorageError }).error.message).toContain('missing start of fragmented record');
    // LevelDB has already moved what it kept into a table and deleted the damaged log…
    expect(existsSync(path.join(dir, log!))).toBe(false);
    expect(existsSync(path.join(dir, QUARANTINE_FILE))).toBe(true);
    // …so only the quarantine file still knows.
    const again = await tryLoad(dir);
    expect(again.kind).toBe('refused');
    expect((again as { error: StorageError }).error.code).toBe(StorageErrorCode.CorruptDatabase);
    expect((again as { error: StorageError }).error.message).toContain('earlier start');
  });

  it('a torn last write (the log cut short, as a power cut leaves it) is a crash, not corruption', async () => {
    const dir = dirs.dir();
    const batches = storeBatches();
    await writeStore(dir, batches);
    const [log] = filesOf(dir, '.log');
    const bytes = readFileSync(path.join(dir, log!));
    writeFileSync(path.join(dir, log!), bytes.subarray(0, bytes.length - 10));
    const model = new MemoryStorage();
    for (const b of batches.slice(0, -1)) applyToModel(model, b);
    const outcome = await tryLoad(dir);
    expect(outcome).toEqual({ kind: 'loaded', got: { ...model.loadNow(), applied: 37 } });
    expect(existsSync(path.join(dir, QUARANTINE_FILE))).toBe(false);
  });

  it('a data directory that is a file: DATABASE_ERROR naming it', async () => {
    const file = path.join(dirs.dir(), 'not-a-dir');
    writeFileSync(file, 'x');
    const outcome = await tryLoad(file);
    expect(outcome.kind).toBe('refused');
    expect((outcome as { error: StorageError }).error).toMatchObject({ code: StorageErrorCode.DatabaseError, payload: { dataDir: file } });
  });
});
