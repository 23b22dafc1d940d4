import { describe, expect, test } from 'vitest';
import { RaftError, RaftErrorCode, type Message, type Snapshot } from '../../src/raft/index.js';
import { batchOf } from '../../src/storage/index.js';
import { TestCluster, enc, entriesWithTerms, initialState, logTerms, storageWith } from '../support/raft-cluster.js';
import { app, drain, drainMessages, heartbeat, newNode, ticksUntil, voteReq } from './helpers.js';

const ids = ['a', 'b', 'c'];

/** E = 30, heartbeat (and so D) = 3 ticks. */
function steady(seed = 1, opts = {}): { c: TestCluster; l: string; f: [string, string] } {
  const c = new TestCluster(ids, { electionTicks: 30, heartbeatTicks: 3, ...opts }, seed);
  const l = c.electLeader();
  c.run(6);
  return { c, l, f: ids.filter((x) => x !== l) as [string, string] };
}

function code(fn: () => unknown): RaftErrorCode | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof RaftError) return e.code;
    throw e;
  }
  return undefined;
}

const snapshotAt = (index: number, term: number): Snapshot => ({
  meta: { index, term, conf: { voters: ids, learners: [] } },
  data: enc(`image@${index}`),
});

describe('DESIGN §3 pitfalls', () => {
  test('after reportConnectionClosed(leader) the two followers start their PreVotes in turns: each in its own window of ⌈D/2⌉ ticks from D on, at least two ticks apart', () => {
    const D = 3;
    const W = Math.ceil(D / 2);
    const firsts = new Set<string>();
    const delays = new Set<number>();
    for (let seed = 1; seed <= 16; seed++) {
      const { c, l, f } = steady(seed);
      const asked = new Map<string, number>();
      for (const x of f) c.node(x).reportConnectionClosed(l);
      for (let t = 1; t <= 60 && asked.size < 2; t++) {
        for (const x of f) {
          c.node(x).tick();
          if (!asked.has(x) && drainMessages(c.node(x)).some((m) => m.type === 'preVote')) asked.set(x, t);
        }
      }
      const [a, b] = f.map((x) => asked.get(x)!);
      expect(Math.min(a!, b!), `seed ${seed}`).toBeGreaterThanOrEqual(D);
      expect(Math.min(a!, b!), `seed ${seed}`).toBeLessThan(D + W);
      expect(Math.abs(a! - b!), `seed ${seed}`).toBeGreaterThanOrEqual(2);
      expect(Math.max(a!, b!), `seed ${seed}`).toBeLessThan(D + 2 * (W + 1));
      firsts.add(a! < b! ? f[0] : f[1]);
      delays.add(Math.min(a!, b!));
    }
    // Neither follower is always first, and the draw within a window is random.
    expect(firsts.size).toBe(2);
    expect(delays.size).toBeGreaterThan(1);
  });

  test('two followers told at the same tick that their leader crashed elect one of them in the next term, with no split vote', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const { c, l, f } = steady(seed, { heartbeatTicks: 5 });
      const term = c.node(l).status().term;
      c.isolate(l);
      for (const x of f) c.node(x).reportConnectionClosed(l);
      const mark = c.sent.length;
      for (let t = 0; t < 30 && !f.some((x) => c.node(x).status().role === 'leader'); t++) c.run(1, f);
      const leader = f.find((x) => c.node(x).status().role === 'leader');
      expect(leader, `seed ${seed}`).toBeDefined();
      expect(c.node(leader!).status().term, `seed ${seed}`).toBe(term + 1);
      expect(new Set(c.sent.slice(mark).filter((m) => m.type === 'vote').map((m) => m.from)), `seed ${seed}: candidates`).toEqual(new Set([leader]));
    }
  });

  test('a follower that hears from the leader again after reportConnectionClosed does not start the early PreVote', () => {
    const { c, l, f } = steady();
    const n = c.node(f[0]);
    const term = c.node(l).status().term;
    n.reportConnectionClosed(l);
    n.step({ type: 'heartbeat', from: l, to: f[0], term, commit: c.node(l).status().commit, readSeq: 0 });
    const mark = c.sent.length;
    c.run(60); // two election timeouts, heartbeats flowing
    expect(c.sent.slice(mark).filter((m) => m.type === 'preVote' || m.type === 'vote')).toEqual([]);
    expect(n.status()).toMatchObject({ role: 'follower', leader: l, term });
  });

  test('a follower that also got reportConnectionClosed grants that PreVote although its election timeout has not elapsed', () => {
    const { c, l, f } = steady();
    const [x, y] = f;
    const term = c.node(l).status().term;
    c.isolate(l); // the leader crashed
    c.node(x).reportConnectionClosed(l);
    c.node(y).reportConnectionClosed(l);
    const mark = c.sent.length;
    // x's turn is the first or the second window: [3, 5) or [6, 8) ticks with D = 3.
    const t = ticksUntil(c.node(x), () => c.node(x).status().role !== 'follower', 10);
    c.stabilize();
    expect(t).toBeLessThan(8);
    const answers = c.sent.slice(mark).filter((m) => m.type === 'preVoteResp' && m.from === y);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ to: x, reject: false });
    expect(c.node(x).status()).toMatchObject({ role: 'leader', term: term + 1 });
    expect(c.node(y).status()).toMatchObject({ role: 'follower', leader: x, term: term + 1 });
  });

  test('a candidate that loses a split vote retries through PreVote in its turn, not after a whole election timeout', () => {
    const D = 3;
    const W = Math.ceil(D / 2);
    // No leader was lost: turns among a, b, c in id order rotated by the term (2), so a (index 0) has turn 2.
    const from = D + 2 * (W + 1);
    for (let seed = 1; seed <= 8; seed++) {
      const n = newNode('a', ids, { electionTicks: 30, heartbeatTicks: D, preVote: true }, initialState({ term: 1 }), seed);
      ticksUntil(n, () => n.status().role === 'preCandidate', 100);
      drain(n);
      n.step({ type: 'preVoteResp', from: 'b', to: 'a', term: 2, reject: false });
      expect(n.status()).toMatchObject({ role: 'candidate', term: 2 });
      drain(n);
      // b and c each voted for themselves in term 2: a split vote.
      n.step({ type: 'voteResp', from: 'b', to: 'a', term: 2, reject: true });
      n.step({ type: 'voteResp', from: 'c', to: 'a', term: 2, reject: true });
      expect(n.status()).toMatchObject({ role: 'follower', term: 2 });
      drain(n);
      let asked = -1;
      for (let t = 1; t <= from + W && asked < 0; t++) {
        n.tick();
        if (drainMessages(n).some((m) => m.type === 'preVote')) asked = t;
      }
      expect(asked, `seed ${seed}`).toBeGreaterThanOrEqual(from);
      expect(asked, `seed ${seed}`).toBeLessThan(from + W);
    }
  });

  test('a lost PreVote does not retry early: the next attempt waits for the election timeout', () => {
    const n = newNode('a', ids, { electionTicks: 30, heartbeatTicks: 3, preVote: true }, initialState({ term: 1 }));
    ticksUntil(n, () => n.status().role === 'preCandidate', 100);
    drain(n);
    // A refusal carries the refuser's own term.
    n.step({ type: 'preVoteResp', from: 'b', to: 'a', term: 1, reject: true });
    n.step({ type: 'preVoteResp', from: 'c', to: 'a', term: 1, reject: true });
    expect(n.status()).toMatchObject({ role: 'follower', term: 1 });
    drain(n);
    for (let t = 1; t < 30; t++) {
      n.tick();
      expect(drainMessages(n).filter((m) => m.type === 'preVote'), `tick ${t}`).toEqual([]);
    }
  });

  test('a follower that still hears from the leader refuses the PreVote, so one broken link does not disturb a live leader', () => {
    const { c, l, f } = steady();
    const [x, y] = f;
    const term = c.node(l).status().term;
    c.cut.add(`${l}->${x}`);
    c.cut.add(`${x}->${l}`);
    c.node(x).reportConnectionClosed(l);
    const mark = c.sent.length;
    ticksUntil(c.node(x), () => c.node(x).status().role !== 'follower', 10);
    c.stabilize();
    expect(c.sent.slice(mark).some((m) => m.type === 'preVote' && m.from === x && m.to === y)).toBe(true);
    c.run(200);
    expect(c.sent.slice(mark).filter((m) => m.type === 'preVoteResp' && m.to === x && !m.reject)).toEqual([]);
    expect(c.sent.slice(mark).some((m) => m.type === 'vote')).toBe(false);
    expect(c.node(l).status()).toMatchObject({ role: 'leader', term });
    expect(c.node(y).status()).toMatchObject({ role: 'follower', leader: l, term });
    expect(c.node(x).status().term).toBe(term);
  });

  test('a leadership-transfer campaign (timeoutNow) bypasses the “leader is alive” refusal', () => {
    // a follower hearing its leader ignores an ordinary vote request, but not a transfer one
    const n = newNode('c', ids, {}, initialState({ term: 1 }));
    n.step(heartbeat('a', 'c', 1));
    drain(n);
    n.step(voteReq('b', 'c', 2, 0, 0, 'vote', false));
    expect(n.status().term).toBe(1);
    expect(drainMessages(n).filter((m) => m.type === 'voteResp')).toEqual([]);
    n.step(voteReq('b', 'c', 2, 0, 0, 'vote', true));
    expect(n.status()).toMatchObject({ term: 2, vote: 'b' });
    expect(drainMessages(n).find((m) => m.type === 'voteResp')).toMatchObject({ to: 'b', reject: false });

    // in a cluster: both other replicas still hear the leader, yet the transfer target wins
    const { c, l, f } = steady();
    const term = c.node(l).status().term;
    c.node(l).transferLeadership(f[0]);
    c.stabilize();
    expect(c.sentWhere((m) => m.type === 'vote' && m.from === f[0]).every((m) => m.type === 'vote' && m.transfer)).toBe(true);
    expect(c.node(f[0]).status()).toMatchObject({ role: 'leader', term: term + 1 });
  });

  test('a candidate persists its new term and its vote for itself in the Ready that carries its vote requests', () => {
    const n = newNode('a', ids, { preVote: false });
    ticksUntil(n, () => n.status().role === 'candidate');
    const rd = n.ready();
    expect(rd.messages.filter((m) => m.type === 'vote').map((m) => m.to).sort()).toEqual(['b', 'c']);
    expect(rd.hardState).toMatchObject({ term: 1, vote: 'a' });
    expect(rd.mustSync).toBe(true);
    n.advance();
  });

  test('a follower persists entries before acknowledging them: the append response is in the same Ready as the entries', () => {
    const n = newNode('b', ids, {}, initialState({ term: 1 }));
    n.step(app('a', 'b', 1, 0, 0, entriesWithTerms([1, 1, 1]), 0));
    expect(n.hasReady()).toBe(true);
    const rd = n.ready();
    expect(rd.entries.map((e) => e.index)).toEqual([1, 2, 3]);
    expect(rd.mustSync).toBe(true);
    expect(rd.messages.find((m) => m.type === 'appResp')).toMatchObject({ to: 'a', reject: false, index: 3 });
    // nothing of that append is acknowledged in an earlier batch, and the follower counts as stable only after advance
    expect(n.raftLog.stableIndex).toBe(0);
    n.advance();
    expect(n.raftLog.stableIndex).toBe(3);
  });

  test('the leader counts itself only for what it has synced: a lone voter commits an entry only after advance() of the Ready carrying it', () => {
    const n = newNode('a', ['a']);
    ticksUntil(n, () => n.status().role === 'leader', 50);
    let rd = n.ready(); // carries the no-op
    expect(rd.entries).toHaveLength(1);
    expect(n.status().commit).toBe(0);
    n.advance();
    expect(n.status().commit).toBe(1);
    drain(n);
    const { index } = n.propose(enc('x')) as { index: number };
    rd = n.ready();
    expect(rd.entries.map((e) => e.index)).toEqual([index]);
    expect(rd.committedEntries.map((e) => e.index)).not.toContain(index);
    expect(n.status().commit).toBe(index - 1);
    n.tick();
    expect(n.status().commit).toBe(index - 1);
    n.advance();
    expect(n.status().commit).toBe(index);
    rd = n.ready();
    expect(rd.committedEntries.map((e) => e.index)).toEqual([index]);
    expect(rd.hardState?.commit).toBe(index);
    n.advance();

    // three voters: one follower's ack plus the leader's own unsynced entry is not a majority
    const { c, l, f } = steady();
    const leader = c.node(l);
    const idx = (leader.propose(enc('y')) as { index: number }).index;
    const lrd = leader.ready();
    for (const m of lrd.messages) if (m.to === f[0]) c.node(f[0]).step(m);
    c.flush();
    c.deliver((m) => m.to === l && m.from === f[0]);
    expect(leader.status().progress?.get(f[0])?.match).toBe(idx);
    expect(leader.status().commit).toBe(idx - 1);
    void c.get(l).storage.persist(batchOf(lrd));
    leader.advance();
    expect(leader.status().commit).toBe(idx);
  });

  test('an append whose entries already match truncates nothing: a delayed duplicate does not cut a suffix', () => {
    const storage = storageWith({ hardState: { term: 1 } });
    const n = newNode('b', ids, {}, storage.loadNow());
    const persist = (): Message[] =>
      drain(n).flatMap((rd) => {
        storage.write(batchOf(rd));
        storage.sync();
        return rd.messages;
      });
    const first = app('a', 'b', 1, 0, 0, entriesWithTerms([1, 1, 1]), 0);
    n.step(first);
    persist();
    n.step(app('a', 'b', 1, 3, 1, entriesWithTerms([1, 1], 4), 0));
    persist();
    expect(n.status().lastIndex).toBe(5);
    n.step(first); // the delayed duplicate
    const rds = drain(n);
    expect(n.status().lastIndex).toBe(5);
    expect(logTerms(n)).toEqual([1, 1, 1, 1, 1]);
    expect(rds.flatMap((rd) => rd.entries)).toEqual([]);
    expect(rds.flatMap((rd) => rd.messages).find((m) => m.type === 'appResp')).toMatchObject({ reject: false, index: 3 });
    expect(storage.loadNow().entries).toHaveLength(5);
  });

  test('a follower’s commit index is min(leader commit, last index verified by this append)', () => {
    // b holds four term-1 entries from an old leader; the new leader (term 2) has committed up to 4 of its own log
    const n = newNode('b', ids, {}, initialState({ term: 1 }, entriesWithTerms([1, 1, 1, 1])));
    n.step(app('a', 'b', 2, 2, 1, [], 4));
    expect(n.status().commit).toBe(2);
    n.step(app('a', 'b', 2, 2, 1, entriesWithTerms([1], 3), 4));
    expect(n.status().commit).toBe(3);
    expect(n.status().lastIndex).toBe(4);
    n.step(app('a', 'b', 2, 3, 1, entriesWithTerms([2], 4), 9));
    expect(n.status().commit).toBe(4);
    expect(logTerms(n)).toEqual([1, 1, 1, 2]);
    // a heartbeat never commits beyond the follower's log either
    n.step(heartbeat('a', 'b', 2, 9));
    expect(n.status().commit).toBe(4);
  });

  test('a snapshot older than what a replica already has is ignored', () => {
    const n = newNode('b', ids, {}, initialState({ term: 1, commit: 5 }, entriesWithTerms([1, 1, 1, 1, 1, 1])));
    drain(n);
    n.step({ type: 'snap', from: 'a', to: 'b', term: 1, snapshot: snapshotAt(3, 1) });
    const rds = drain(n);
    expect(rds.some((rd) => rd.snapshot)).toBe(false);
    expect(n.status()).toMatchObject({ firstIndex: 1, lastIndex: 6, commit: 5 });
    expect(rds.flatMap((rd) => rd.messages).find((m) => m.type === 'appResp')).toMatchObject({ to: 'a', reject: false, index: 5 });
  });

  test('installing a snapshot resets the log behind it, atomically with the hard state', () => {
    const storage = storageWith({ hardState: { term: 2, commit: 2 }, entries: entriesWithTerms([1, 1, 2, 2, 2]) });
    const n = newNode('b', ids, {}, storage.loadNow());
    n.step({ type: 'snap', from: 'a', to: 'b', term: 3, snapshot: snapshotAt(7, 3) });
    const rd = n.ready();
    expect(rd.snapshot?.meta).toMatchObject({ index: 7, term: 3 });
    expect(rd.hardState).toMatchObject({ term: 3, commit: 7 });
    expect(rd.entries).toEqual([]);
    expect(rd.mustSync).toBe(true);
    expect(rd.messages.find((m) => m.type === 'appResp')).toMatchObject({ reject: false, index: 7 });
    storage.write(batchOf(rd));
    storage.sync();
    n.advance();
    expect(n.status()).toMatchObject({ firstIndex: 8, lastIndex: 7, commit: 7, applied: 7 });
    expect(n.raftLog.term(5)).toBeUndefined();
    const stored = storage.loadNow();
    expect(stored.snapshot?.meta.index).toBe(7);
    expect(stored.entries).toEqual([]);
    expect(stored.hardState).toMatchObject({ term: 3, commit: 7 });

    // entries after a snapshot whose last entry conflicts with the replica's log go too
    const m = newNode('b', ids, {}, initialState({ term: 2, commit: 2 }, entriesWithTerms([1, 1, 2, 2, 2, 2, 2, 2])));
    m.step({ type: 'snap', from: 'a', to: 'b', term: 3, snapshot: snapshotAt(5, 3) });
    expect(drain(m).some((x) => x.snapshot?.meta.index === 5)).toBe(true);
    expect(m.status()).toMatchObject({ firstIndex: 6, lastIndex: 5, commit: 5 });
  });

  test('a snapshot covering entries the replica already holds only advances its commit index', () => {
    const n = newNode('b', ids, {}, initialState({ term: 2, commit: 2 }, entriesWithTerms([1, 1, 2, 2, 2, 2])));
    n.step({ type: 'snap', from: 'a', to: 'b', term: 2, snapshot: snapshotAt(4, 2) });
    const rds = drain(n);
    expect(rds.some((rd) => rd.snapshot)).toBe(false);
    expect(n.status()).toMatchObject({ firstIndex: 1, lastIndex: 6, commit: 4 });
  });

  test('a leader whose log store stops completing writes (ready() taken, advance() never called) steps down after about an election timeout', () => {
    // CheckQuorum off, so that only the stalled store can depose it
    const { c, l } = steady(1, { checkQuorum: false });
    const E = 30;
    c.run(3 * E);
    expect(c.node(l).status().role).toBe('leader');
    const n = c.node(l);
    n.propose(enc('x'));
    n.ready(); // taken, never persisted
    for (let t = 1; t < E; t++) n.tick();
    expect(n.status().role).toBe('leader');
    n.tick();
    expect(n.status().role).toBe('follower');
    n.advance();
    const rd = n.ready();
    expect(rd.softState?.role).toBe('follower');
    expect(rd.softState?.reason).toMatch(/stall/);
    n.advance();
  });
});

describe('ready/advance contract', () => {
  test('ready() twice without advance() throws ContractViolation, and so does advance() without a Ready', () => {
    const n = newNode('a', ['a']);
    expect(code(() => n.advance())).toBe(RaftErrorCode.ContractViolation);
    ticksUntil(n, () => n.status().role === 'leader', 50);
    n.ready();
    expect(n.hasReady()).toBe(false);
    expect(code(() => n.ready())).toBe(RaftErrorCode.ContractViolation);
    n.advance();
    expect(n.hasReady()).toBe(true);
    expect(code(() => n.ready())).toBeUndefined();
  });

  test('mustSync is false when only the commit index changed', () => {
    const n = newNode('b', ids, {}, initialState({ term: 1 }));
    n.step(app('a', 'b', 1, 0, 0, entriesWithTerms([1, 1]), 0));
    const first = n.ready();
    expect(first.mustSync).toBe(true);
    n.advance();
    n.step(heartbeat('a', 'b', 1, 2));
    const rd = n.ready();
    expect(rd.hardState).toMatchObject({ term: 1, commit: 2 });
    expect(rd.entries).toEqual([]);
    expect(rd.committedEntries.map((e) => e.index)).toEqual([1, 2]);
    expect(rd.mustSync).toBe(false);
    n.advance();
    // a term change must be synced
    n.step(heartbeat('c', 'b', 2, 2));
    expect(n.ready().mustSync).toBe(true);
  });
});
