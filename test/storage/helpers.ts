// Shared by the storage tests: fresh temp directories, batch builders, and
// raw access to a store's LevelDB (to damage it the way a disk would).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Level } from 'level';
import { afterEach, beforeEach } from 'vitest';
import { EntryType, type Entry, type HardState, type Snapshot } from '../../src/raft/index.js';
import { LevelRaftStorage, type LevelPersistBatch, type LevelRaftStorageOptions, type MemoryStorage } from '../../src/storage/index.js';

/** A fresh directory per test and a way to open stores in it; all closed and removed after the test, pass or fail. */
export function useTempDirs(): { dir: () => string; open: (dir?: string, opts?: LevelRaftStorageOptions) => Promise<LevelRaftStorage> } {
  let root = '';
  let open: LevelRaftStorage[] = [];
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'torua-storage-'));
  });
  afterEach(async () => {
    for (const s of open.reverse()) await s.close().catch(() => undefined);
    open = [];
    rmSync(root, { recursive: true, force: true });
  });
  return {
    dir: () => root,
    open: async (dir = root, opts = {}) => {
      const s = await LevelRaftStorage.open(dir, opts);
      open.push(s);
      return s;
    },
  };
}

export function batch(b: Partial<LevelPersistBatch>): LevelPersistBatch {
  return { hardState: undefined, snapshot: undefined, entries: [], compaction: undefined, sync: true, ...b };
}

export function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff);
}

export function entry(index: number, term: number, dataBytes = 16, type = EntryType.Normal): Entry {
  return { index, term, type, data: bytes(dataBytes, index) };
}

export function entries(from: number, to: number, term: number, dataBytes = 16): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term, dataBytes));
  return out;
}

export function hardState(term: number, commit: number, vote = 'c1'): HardState {
  return { term, vote, commit };
}

export function snapshot(index: number, term: number, dataBytes = 64): Snapshot {
  return { meta: { index, term, conf: { voters: ['c1', 'c2', 'c3'], learners: ['c4'] } }, data: bytes(dataBytes, index + 1000) };
}

/** The store's LevelDB opened directly (the store must be closed). */
export async function rawDb(dir: string): Promise<Level<Uint8Array, Uint8Array>> {
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view', compression: false });
  await db.open();
  return db;
}

/**
 * MemoryStorage as a model of LevelDB: a LevelDB write is visible, and kept
 * across close and reopen, whether synced or not (sync only guards against a
 * power cut), so the model makes every batch durable at once.
 */
export function applyToModel(memory: MemoryStorage, b: LevelPersistBatch): void {
  memory.write(b);
  memory.sync();
}
