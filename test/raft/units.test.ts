import { describe, expect, test } from 'vitest';
import {
  EntryType,
  NONE,
  RaftError,
  RaftErrorCode,
  RawNode,
  SeededRng,
  applyConfChange,
  decodeConfChange,
  encodeConfChange,
  quorum,
  type ConfState,
  type Entry,
  type Snapshot,
} from '../../src/raft/index.js';
import { RaftLog, entrySize } from '../../src/raft/log.js';
import { Inflights, Progress, quorumIndex, voteResult } from '../../src/raft/progress.js';
import { sameConf } from '../../src/raft/confchange.js';
import { MemoryStorage, batchOf, isEmptyBatch, type PersistBatch } from '../../src/storage/index.js';
import { entriesWithTerms, enc } from '../support/raft-cluster.js';

function code(fn: () => unknown): RaftErrorCode | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof RaftError) return e.code;
    throw e;
  }
  return undefined;
}

const conf: ConfState = { voters: ['a', 'b', 'c'], learners: [] };
const snap = (index: number, term: number): Snapshot => ({ meta: { index, term, conf }, data: enc(`s${index}`) });
const withData = (e: Entry, n: number): Entry => ({ ...e, data: new Uint8Array(n) });

describe('RaftLog (log.ts)', () => {
  test('term() is known at the snapshot index and after it, undefined before it or past the end', () => {
    const log = new RaftLog(snap(3, 2), entriesWithTerms([2, 3, 3], 4), 3, 3);
    expect([log.firstIndex(), log.lastIndex(), log.lastTerm()]).toEqual([4, 6, 3]);
    expect(log.term(3)).toBe(2);
    expect(log.term(5)).toBe(3);
    expect(log.term(2)).toBeUndefined();
    expect(log.term(7)).toBeUndefined();
    expect(log.matchTerm(4, 2)).toBe(true);
    expect(log.matchTerm(4, 3)).toBe(false);
  });

  test('the constructor refuses a non-contiguous log or a commit index beyond it (CorruptState)', () => {
    expect(code(() => new RaftLog(snap(0, 0), [...entriesWithTerms([1]), ...entriesWithTerms([1], 3)], 0, 0))).toBe(RaftErrorCode.CorruptState);
    expect(code(() => new RaftLog(snap(0, 0), entriesWithTerms([1, 1]), 3, 0))).toBe(RaftErrorCode.CorruptState);
    expect(code(() => new RaftLog(snap(2, 1), entriesWithTerms([1], 4), 0, 0))).toBe(RaftErrorCode.CorruptState);
    const ok = new RaftLog(snap(2, 1), entriesWithTerms([1], 3), 0, 0);
    expect([ok.committed, ok.applied, ok.stableIndex, ok.unstableFrom]).toEqual([2, 2, 3, 4]);
  });

  test('slice() honours the byte limit but returns at least one entry, and is undefined below the first index', () => {
    const es = entriesWithTerms([1, 1, 1, 1]).map((e) => withData(e, 26)); // 50 bytes each
    expect(entrySize(es[0]!)).toBe(50);
    const log = new RaftLog(snap(0, 0), es, 0, 0);
    expect(log.slice(1, 5)!.map((e) => e.index)).toEqual([1, 2, 3, 4]);
    expect(log.slice(1, 5, 100)!.map((e) => e.index)).toEqual([1, 2]);
    expect(log.slice(1, 5, 99)!.map((e) => e.index)).toEqual([1]);
    expect(log.slice(2, 5, 1)!.map((e) => e.index)).toEqual([2]);
    expect(log.slice(3, 99)!.map((e) => e.index)).toEqual([3, 4]);
    expect(log.slice(5, 9)).toEqual([]);
    const compacted = new RaftLog(snap(2, 1), entriesWithTerms([1], 3), 0, 0);
    expect(compacted.slice(2, 4)).toBeUndefined();
  });

  test('findConflict() returns the first new or conflicting entry, 0 when all already match', () => {
    const log = new RaftLog(snap(0, 0), entriesWithTerms([1, 1, 2]), 0, 0);
    expect(log.findConflict(entriesWithTerms([1, 1]))).toBe(0);
    expect(log.findConflict(entriesWithTerms([1, 2], 2))).toBe(0);
    expect(log.findConflict(entriesWithTerms([1, 2, 2], 2))).toBe(4);
    expect(log.findConflict(entriesWithTerms([1, 3, 3], 2))).toBe(3);
    expect(log.findConflict([])).toBe(0);
  });

  test('findConflictByTerm() returns the largest index at or below the given one whose term is no greater', () => {
    const log = new RaftLog(snap(0, 0), entriesWithTerms([1, 1, 1, 4, 4, 5, 5, 6, 6, 6]), 0, 0);
    expect(log.findConflictByTerm(10, 6)).toEqual({ index: 10, term: 6 });
    expect(log.findConflictByTerm(10, 3)).toEqual({ index: 3, term: 1 });
    expect(log.findConflictByTerm(7, 4)).toEqual({ index: 5, term: 4 });
    expect(log.findConflictByTerm(99, 5)).toEqual({ index: 7, term: 5 });
    expect(log.findConflictByTerm(10, 0)).toEqual({ index: 0, term: 0 });
    const compacted = new RaftLog(snap(3, 3), entriesWithTerms([4, 4], 4), 3, 3);
    expect(compacted.findConflictByTerm(5, 3)).toEqual({ index: 3, term: 3 });
    expect(compacted.findConflictByTerm(5, 2)).toEqual({ index: 2, term: 0 });
  });

  test('truncateAndAppend() cuts from the first new entry on, and refuses to overwrite a committed entry or to leave a gap', () => {
    const log = new RaftLog(snap(0, 0), entriesWithTerms([1, 1, 1, 1]), 1, 0);
    expect(log.truncateAndAppend(entriesWithTerms([1, 1], 5))).toBe(0);
    expect(log.lastIndex()).toBe(6);
    expect(log.unstableFrom).toBe(5);
    expect(log.truncateAndAppend(entriesWithTerms([2], 3))).toBe(3);
    expect(log.lastIndex()).toBe(3);
    expect(log.term(3)).toBe(2);
    expect(log.stableIndex).toBe(2);
    expect(log.unstableFrom).toBe(3);
    expect(log.unstableEntries().map((e) => e.index)).toEqual([3]);
    expect(code(() => log.truncateAndAppend(entriesWithTerms([2], 1)))).toBe(RaftErrorCode.ContractViolation);
    expect(code(() => log.truncateAndAppend(entriesWithTerms([2], 5)))).toBe(RaftErrorCode.ContractViolation);
    expect(log.truncateAndAppend([])).toBe(0);
  });

  test('isUpToDate() compares the last term first, then the last index', () => {
    const log = new RaftLog(snap(0, 0), entriesWithTerms([1, 2, 2]), 0, 0);
    expect(log.isUpToDate(3, 2)).toBe(true);
    expect(log.isUpToDate(9, 2)).toBe(true);
    expect(log.isUpToDate(1, 3)).toBe(true);
    expect(log.isUpToDate(2, 2)).toBe(false);
    expect(log.isUpToDate(99, 1)).toBe(false);
  });

  test('commitTo() never moves back and refuses an index past the end; nextCommitted() hands out committed, unapplied entries', () => {
    const log = new RaftLog(snap(0, 0), entriesWithTerms([1, 1, 1]), 0, 0);
    expect(log.commitTo(2)).toBe(true);
    expect(log.commitTo(1)).toBe(false);
    expect(log.committed).toBe(2);
    expect(code(() => log.commitTo(4))).toBe(RaftErrorCode.ContractViolation);
    expect(log.hasNextCommitted()).toBe(true);
    expect(log.nextCommitted(Infinity).map((e) => e.index)).toEqual([1, 2]);
    log.applied = 2;
    expect(log.hasNextCommitted()).toBe(false);
    expect(log.nextCommitted(Infinity)).toEqual([]);
  });

  test('compact() drops the entries up to the snapshot and keeps those after; restore() replaces the whole log', () => {
    const log = new RaftLog(snap(0, 0), entriesWithTerms([1, 1, 2, 2, 2]), 4, 4);
    log.compact({ index: 3, term: 2, conf }, enc('img'));
    expect([log.firstIndex(), log.lastIndex(), log.term(3), log.term(2)]).toEqual([4, 5, 2, undefined]);
    log.restore(snap(9, 3));
    expect([log.firstIndex(), log.lastIndex(), log.committed, log.applied]).toEqual([10, 9, 9, 9]);
    expect(log.pendingSnapshot?.meta.index).toBe(9);
    expect(log.hasNextCommitted()).toBe(false);
  });
});

describe('Progress and quorum (progress.ts)', () => {
  test('Inflights is a bounded window, freed in order up to an index', () => {
    const w = new Inflights(3);
    w.add(2);
    w.add(4);
    w.add(6);
    expect(w.full()).toBe(true);
    expect(() => w.add(8)).toThrow(RangeError);
    w.freeLE(4);
    expect(w.count).toBe(1);
    w.add(8);
    w.add(10); // wraps around the ring
    expect(w.full()).toBe(true);
    w.freeLE(9);
    expect(w.count).toBe(1);
    w.reset();
    expect(w.count).toBe(0);
  });

  test('a Progress in probe state pauses after one append until an answer, in replicate state when the window is full, and in snapshot state always', () => {
    const p = new Progress(11, 2, false);
    expect(p.state).toBe('probe');
    expect(p.isPaused()).toBe(false);
    p.sentEntries(3, 13);
    expect(p.isPaused()).toBe(true);
    expect(p.next).toBe(11);
    expect(p.maybeUpdate(13)).toBe(true);
    expect(p.isPaused()).toBe(false);
    p.becomeReplicate();
    expect(p.next).toBe(14);
    p.sentEntries(2, 15);
    p.sentEntries(0, 15); // an empty append takes no slot
    expect(p.isPaused()).toBe(false);
    p.sentEntries(1, 16);
    expect([p.next, p.isPaused()]).toEqual([17, true]);
    p.inflights.freeLE(15);
    expect(p.isPaused()).toBe(false);
    p.becomeSnapshot(40);
    expect(p.isPaused()).toBe(true);
    p.becomeProbe();
    expect([p.state, p.next]).toEqual(['probe', 41]);
    expect(p.view()).toEqual({ match: 13, next: 41, state: 'probe', learner: false, recentActive: false });
  });

  test('maybeDecrTo() ignores stale rejections and, in probe state, jumps back to the hint', () => {
    const p = new Progress(11, 4, false);
    expect(p.maybeDecrTo(5, 2)).toBe(false); // not the append we sent (prevIndex 10)
    expect(p.maybeDecrTo(10, 3)).toBe(true);
    expect(p.next).toBe(4);
    expect(p.maybeDecrTo(3, 0)).toBe(true);
    expect(p.next).toBe(1);
    const r = new Progress(1, 4, false);
    r.maybeUpdate(5);
    r.becomeReplicate();
    r.sentEntries(3, 8);
    expect(r.maybeDecrTo(4, 0)).toBe(false); // at or below match: stale
    expect(r.maybeDecrTo(7, 0)).toBe(true);
    expect(r.next).toBe(6);
  });

  test('quorum and quorumIndex give the majority size and the highest index a majority has reached', () => {
    expect([1, 2, 3, 4, 5].map(quorum)).toEqual([1, 2, 2, 3, 3]);
    const match: Record<string, number> = { a: 9, b: 5, c: 7, d: 1, e: 5 };
    expect(quorumIndex(['a', 'b', 'c', 'd', 'e'], (id) => match[id]!)).toBe(5);
    expect(quorumIndex(['a', 'b', 'c'], (id) => match[id]!)).toBe(7);
    expect(quorumIndex(['a', 'd'], (id) => match[id]!)).toBe(1);
    expect(quorumIndex([], () => 9)).toBe(0);
  });

  test('voteResult: won with a majority of grants, lost once a majority is out of reach, pending otherwise; non-voters do not count', () => {
    const voters = ['a', 'b', 'c', 'd', 'e'];
    const votes = new Map<string, boolean>([['a', true], ['b', true]]);
    expect(voteResult(voters, votes)).toBe('pending');
    votes.set('z', true);
    expect(voteResult(voters, votes)).toBe('pending');
    votes.set('c', true);
    expect(voteResult(voters, votes)).toBe('won');
    const against = new Map<string, boolean>([['a', true], ['b', false], ['c', false]]);
    expect(voteResult(voters, against)).toBe('pending');
    against.set('d', false);
    expect(voteResult(voters, against)).toBe('lost');
    expect(voteResult(['a'], new Map([['a', true]]))).toBe('won');
  });
});

describe('membership-change records (confchange.ts)', () => {
  test('encodeConfChange and decodeConfChange round-trip a change and the resulting configuration', () => {
    for (const rec of [
      { change: { type: 'addLearner' as const, node: 'd' }, conf: { voters: ['a'], learners: ['d'] } },
      { change: { type: 'promote' as const, node: 'd', context: 'ctx' }, conf: { voters: ['a', 'd'], learners: [] } },
    ]) {
      expect(decodeConfChange(encodeConfChange(rec))).toEqual(rec);
    }
  });

  test('decodeConfChange refuses malformed data with CorruptState', () => {
    const bad = [
      new Uint8Array([0xff, 0xfe]),
      enc('not json'),
      enc('{}'),
      enc(JSON.stringify({ change: { type: 'nuke', node: 'a' }, conf: { voters: [], learners: [] } })),
      enc(JSON.stringify({ change: { type: 'remove', node: 3 }, conf: { voters: [], learners: [] } })),
      enc(JSON.stringify({ change: { type: 'remove', node: 'a' }, conf: { voters: [''], learners: [] } })),
      enc(JSON.stringify({ change: { type: 'remove', node: 'a', context: 1 }, conf: { voters: [], learners: [] } })),
      enc(JSON.stringify({ change: { type: 'remove', node: 'a' }, conf: { voters: [] } })),
    ];
    for (const b of bad) expect(code(() => decodeConfChange(b))).toBe(RaftErrorCode.CorruptState);
  });

  test('applyConfChange adds learners, promotes them, removes members, and refuses changes that make no sense', () => {
    const c0: ConfState = { voters: ['a', 'b'], learners: [] };
    const c1 = applyConfChange(c0, { type: 'addLearner', node: 'c' });
    expect(c1).toEqual({ voters: ['a', 'b'], learners: ['c'] });
    const c2 = applyConfChange(c1, { type: 'promote', node: 'c' });
    expect(c2).toEqual({ voters: ['a', 'b', 'c'], learners: [] });
    expect(applyConfChange(c2, { type: 'remove', node: 'a' })).toEqual({ voters: ['b', 'c'], learners: [] });
    expect(applyConfChange(c1, { type: 'remove', node: 'c' })).toEqual(c0);
    expect(c0).toEqual({ voters: ['a', 'b'], learners: [] }); // inputs untouched
    const invalid = [
      () => applyConfChange(c1, { type: 'addLearner', node: 'a' }),
      () => applyConfChange(c1, { type: 'addLearner', node: 'c' }),
      () => applyConfChange(c1, { type: 'addLearner', node: '' }),
      () => applyConfChange(c1, { type: 'promote', node: 'a' }),
      () => applyConfChange(c1, { type: 'promote', node: 'z' }),
      () => applyConfChange(c1, { type: 'remove', node: 'z' }),
      () => applyConfChange({ voters: ['a'], learners: [] }, { type: 'remove', node: 'a' }),
    ];
    for (const f of invalid) expect(code(f)).toBe(RaftErrorCode.InvalidConfChange);
    expect(sameConf({ voters: ['b', 'a'], learners: [] }, c0)).toBe(true);
    expect(sameConf(c1, c0)).toBe(false);
  });
});

describe('SeededRng (rng.ts)', () => {
  test('the same seed gives the same sequence and different seeds give different ones', () => {
    const seq = (seed: number) => {
      const r = new SeededRng(seed);
      return Array.from({ length: 8 }, () => r.u32());
    };
    expect(seq(42)).toEqual(seq(42));
    expect(seq(42)).not.toEqual(seq(43));
    expect(seq(0)).not.toEqual(seq(1));
  });

  test('int(n) stays in [0, n) and covers it; float() in [0, 1); chance and pick behave', () => {
    const r = new SeededRng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = r.int(10);
      expect(Number.isInteger(v) && v >= 0 && v < 10).toBe(true);
      seen.add(v);
      const f = r.float();
      expect(f >= 0 && f < 1).toBe(true);
    }
    expect(seen.size).toBe(10);
    expect(r.int(1)).toBe(0);
    expect(r.chance(0)).toBe(false);
    expect(r.chance(1)).toBe(true);
    expect(['x', 'y']).toContain(r.pick(['x', 'y']));
    expect(() => r.pick([])).toThrow(RangeError);
  });

  test('fork() gives a new stream decided by the parent', () => {
    const a = new SeededRng(5).fork();
    const b = new SeededRng(5).fork();
    const xs = Array.from({ length: 5 }, () => a.u32());
    expect(Array.from({ length: 5 }, () => b.u32())).toEqual(xs);
    const parent = new SeededRng(5);
    const child = parent.fork();
    expect(Array.from({ length: 5 }, () => child.u32())).not.toEqual(Array.from({ length: 5 }, () => parent.u32()));
  });
});

describe('RawNode construction', () => {
  test('RawNode refuses electionTicks ≤ heartbeatTicks, an empty id, and a hard state older than its snapshot', () => {
    const rng = new SeededRng(1);
    expect(code(() => new RawNode({ id: 'a', electionTicks: 3, heartbeatTicks: 3 }, { rng }))).toBe(RaftErrorCode.InvalidRequest);
    expect(code(() => new RawNode({ id: 'a', electionTicks: 3, heartbeatTicks: 0 }, { rng }))).toBe(RaftErrorCode.InvalidRequest);
    expect(code(() => new RawNode({ id: NONE, electionTicks: 3, heartbeatTicks: 1 }, { rng }))).toBe(RaftErrorCode.InvalidRequest);
    const initial = { hardState: { term: 1, vote: NONE, commit: 0 }, snapshot: snap(5, 2), entries: [] };
    expect(code(() => new RawNode({ id: 'a', electionTicks: 3, heartbeatTicks: 1 }, { rng, initial }))).toBe(RaftErrorCode.CorruptState);
    const n = new RawNode({ id: 'a', electionTicks: 3, heartbeatTicks: 1 }, { rng, initial: { ...initial, hardState: { term: 2, vote: NONE, commit: 0 } } });
    expect(n.status()).toMatchObject({ commit: 5, applied: 5, firstIndex: 6, conf });
  });
});

describe('MemoryStorage (storage/memory-storage.ts)', () => {
  const batch = (b: Partial<PersistBatch>): PersistBatch => ({
    hardState: undefined,
    snapshot: undefined,
    entries: [],
    compaction: undefined,
    sync: true,
    ...b,
  });

  test('a synced batch is durable; written but unsynced batches are lost by crash()', async () => {
    const s = new MemoryStorage();
    await s.persist(batch({ hardState: { term: 1, vote: 'a', commit: 0 }, entries: entriesWithTerms([1]) }));
    expect(s.syncedBatches).toBe(1);
    await s.persist(batch({ hardState: { term: 1, vote: 'a', commit: 1 }, sync: false }));
    s.write(batch({ entries: entriesWithTerms([1], 2) }));
    expect(s.loadNow().hardState.commit).toBe(0);
    s.crash();
    expect(await s.load()).toEqual({ hardState: { term: 1, vote: 'a', commit: 0 }, snapshot: undefined, entries: entriesWithTerms([1]) });
    s.write(batch({ entries: entriesWithTerms([1], 2) }));
    s.sync();
    expect(s.loadNow().entries).toHaveLength(2);
    await s.close();
  });

  test('an entry at index i replaces the stored entries from i on; a gap or an entry behind the snapshot throws', () => {
    const s = new MemoryStorage();
    s.write(batch({ entries: entriesWithTerms([1, 1, 1, 1]) }));
    s.sync();
    s.write(batch({ entries: entriesWithTerms([2], 3) }));
    s.sync();
    expect(s.loadNow().entries.map((e) => e.term)).toEqual([1, 1, 2]);
    s.write(batch({ entries: entriesWithTerms([2], 5) }));
    expect(() => s.sync()).toThrow(/gap/);
    const t = new MemoryStorage();
    t.write(batch({ snapshot: snap(4, 1) }));
    t.sync();
    t.write(batch({ entries: entriesWithTerms([1], 3) }));
    expect(() => t.sync()).toThrow(/behind the snapshot/);
  });

  test('a snapshot replaces the stored log; a compaction drops entries up to its index and an older one is ignored', () => {
    const s = new MemoryStorage();
    s.write(batch({ entries: entriesWithTerms([1, 1, 1, 1, 1]) }));
    s.write(batch({ compaction: snap(3, 1) }));
    s.sync();
    expect(s.loadNow().snapshot?.meta.index).toBe(3);
    expect(s.loadNow().entries.map((e) => e.index)).toEqual([4, 5]);
    s.write(batch({ compaction: snap(2, 1) }));
    s.sync();
    expect(s.loadNow().snapshot?.meta.index).toBe(3);
    expect(s.loadNow().entries.map((e) => e.index)).toEqual([4, 5]);
    s.write(batch({ snapshot: snap(9, 2), hardState: { term: 2, vote: NONE, commit: 9 } }));
    s.sync();
    expect(s.loadNow()).toMatchObject({ snapshot: { meta: { index: 9 } }, entries: [], hardState: { commit: 9 } });
    s.write(batch({ entries: entriesWithTerms([2], 10) }));
    s.sync();
    expect(s.loadNow().entries.map((e) => e.index)).toEqual([10]);
    s.wipe();
    expect(s.loadNow()).toEqual({ hardState: { term: 0, vote: NONE, commit: 0 }, snapshot: undefined, entries: [] });
  });

  test('batchOf() takes a Ready’s persistent parts, and isEmptyBatch() spots a batch with nothing to write', () => {
    const rd = {
      softState: undefined,
      hardState: { term: 1, vote: NONE, commit: 0 },
      snapshot: undefined,
      entries: [{ index: 1, term: 1, type: EntryType.Noop, data: new Uint8Array(0) }],
      compaction: undefined,
      mustSync: true,
      messages: [],
      committedEntries: [],
      readStates: [],
      failedReads: [],
    };
    const b = batchOf(rd);
    expect(b).toEqual({ hardState: rd.hardState, snapshot: undefined, entries: rd.entries, compaction: undefined, sync: true });
    expect(isEmptyBatch(b)).toBe(false);
    expect(isEmptyBatch(batch({}))).toBe(true);
    expect(isEmptyBatch(batch({ compaction: snap(1, 1) }))).toBe(false);
  });
});
