// The same random sequence of batches, applied to MemoryStorage and to
// LevelRaftStorage (awaited or pipelined, with reopens in between), must
// load the same state.
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry, EntryType, HardState, Snapshot } from '../../src/raft/index.js';
import { LevelRaftStorage, MemoryStorage, type LevelPersistBatch } from '../../src/storage/index.js';
import { applyToModel, bytes, useTempDirs } from './helpers.js';

const dirs = useTempDirs();

const frac = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

/** A batch described relative to the current state, so that it is valid whatever came before. */
const step = fc.record({
  snapshot: fc.option(fc.record({ offset: fc.integer({ min: -4, max: 6 }), term: fc.integer({ min: 1, max: 9 }), dataBytes: fc.nat(40) }), { nil: undefined, freq: 6 }),
  entries: fc.option(
    fc.record({ start: frac, count: fc.integer({ min: 1, max: 6 }), term: fc.integer({ min: 1, max: 9 }), dataBytes: fc.nat(30), type: fc.constantFrom<EntryType>(0, 1, 2) }),
    { nil: undefined, freq: 2 },
  ),
  hardState: fc.option(fc.record({ term: fc.nat(9), vote: fc.constantFrom('', 'c1', 'c2'), commit: frac }), { nil: undefined, freq: 2 }),
  compaction: fc.option(fc.record({ at: frac, beyond: fc.nat(3), term: fc.integer({ min: 1, max: 9 }) }), { nil: undefined, freq: 4 }),
  applied: fc.option(fc.nat(60), { nil: undefined, freq: 4 }),
  sync: fc.boolean(),
  pipelined: fc.boolean(),
  reopenAfter: fc.option(fc.constant(true), { nil: undefined, freq: 8 }),
});
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

function snap(index: number, term: number, dataBytes: number): Snapshot {
  return { meta: { index, term, conf: { voters: ['c1', 'c2'], learners: index % 2 ? ['c3'] : [] } }, data: bytes(dataBytes, index) };
}

/** The concrete batch for `s` given the store's current state. */
function concrete(s: Step, memory: MemoryStorage): LevelPersistBatch {
  const now = memory.loadNow();
  let base = now.snapshot?.meta.index ?? 0;
  let last = base + now.entries.length;
  let snapshot: Snapshot | undefined;
  let entries: Entry[] = [];
  let compaction: Snapshot | undefined;
  if (s.snapshot) {
    base = last = Math.max(0, last + s.snapshot.offset);
    snapshot = snap(base, s.snapshot.term, s.snapshot.dataBytes);
  }
  if (s.entries) {
    const first = base + 1 + Math.floor(s.entries.start * (last - base + 1));
    const e = s.entries;
    entries = Array.from({ length: e.count }, (_, i) => ({ index: first + i, term: e.term, type: e.type, data: bytes(e.dataBytes, first + i) }));
    last = first + e.count - 1;
  }
  if (s.compaction) {
    const at = Math.floor(s.compaction.at * (last + 1)) + s.compaction.beyond;
    compaction = snap(at, s.compaction.term, 10);
    if (at > base) {
      base = at;
      last = Math.max(last, at);
    }
  }
  let hardState: HardState | undefined;
  if (s.hardState) hardState = { term: s.hardState.term, vote: s.hardState.vote, commit: Math.floor(s.hardState.commit * (last + 1)) };
  else if (now.hardState.commit > last) hardState = { ...now.hardState, commit: last }; // keep commit within the log
  return { hardState, snapshot, entries, compaction, sync: s.sync, applied: s.applied };
}

describe('LevelRaftStorage behaves as MemoryStorage', () => {
  it('for random batch sequences (awaited and pipelined, with reopens)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 14 }), async (steps) => {
        const dir = path.join(dirs.dir(), `run-${run++}`);
        const memory = new MemoryStorage();
        let applied = 0;
        let level = await LevelRaftStorage.open(dir);
        try {
          let pending: Promise<void>[] = [];
          const expectSame = async () => {
            await Promise.all(pending);
            pending = [];
            expect(await level.load()).toEqual({ ...memory.loadNow(), applied });
          };
          for (const s of steps) {
            const b = concrete(s, memory);
            applyToModel(memory, b);
            if (b.applied !== undefined) applied = b.applied;
            const p = level.persist(b);
            if (s.pipelined) pending.push(p);
            else await p;
            if (s.reopenAfter) {
              await expectSame();
              await level.close();
              level = await LevelRaftStorage.open(dir);
            }
          }
          await expectSame();
        } finally {
          await level.close();
        }
      }),
      { numRuns: 50 },
    );
  }, 60_000);
});
