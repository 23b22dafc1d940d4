import { describe, expect, test } from 'vitest';
import { MemoryStorage, batchOf } from '../../src/storage/index.js';
import { EntryType, NONE, RawNode, SeededRng, type RaftRole } from '../../src/raft/index.js';
import { TestCluster, entriesWithTerms, initialState } from '../support/raft-cluster.js';
import { app, drain, drainMessages, heartbeat, newNode, ticksUntil, voteReq } from './helpers.js';

const E = 10;

/** A lone replica of {a,b,c} brought into `role` (the test plays b and c). */
function nodeIn(role: RaftRole): RawNode {
  switch (role) {
    case 'follower': {
      const n = newNode('a', ['a', 'b', 'c'], {}, initialState({ term: 2 }));
      n.step(heartbeat('c', 'a', 2));
      drain(n);
      return n;
    }
    case 'preCandidate': {
      const n = newNode('a', ['a', 'b', 'c']);
      ticksUntil(n, () => n.status().role === 'preCandidate');
      drain(n);
      return n;
    }
    case 'candidate': {
      const n = newNode('a', ['a', 'b', 'c'], { preVote: false });
      ticksUntil(n, () => n.status().role === 'candidate');
      drain(n);
      return n;
    }
    case 'leader': {
      const n = newNode('a', ['a', 'b', 'c'], { preVote: false });
      ticksUntil(n, () => n.status().role === 'candidate');
      n.step({ type: 'voteResp', from: 'b', to: 'a', term: n.status().term, reject: false });
      drain(n);
      return n;
    }
  }
}

describe('leader election', () => {
  test('a replica starts as a follower in term 0 with no leader and no vote', () => {
    const n = newNode('a', ['a', 'b', 'c']);
    const s = n.status();
    expect(s.role).toBe('follower');
    expect(s.term).toBe(0);
    expect(s.leader).toBe(NONE);
    expect(s.vote).toBe(NONE);
    // and it stays one until its election timeout
    for (let i = 0; i < E - 1; i++) n.tick();
    expect(n.status().role).toBe('follower');
    expect(drainMessages(n)).toEqual([]);
  });

  test('a message with a higher term makes any role (follower, preCandidate, candidate, leader) step down to follower in that term', () => {
    for (const role of ['follower', 'preCandidate', 'candidate', 'leader'] as const) {
      const n = nodeIn(role);
      expect(n.status().role).toBe(role);
      const higher = n.status().term + 5;
      n.step(app('b', 'a', higher, 0, 0, [], 0));
      const s = n.status();
      expect(s.role, role).toBe('follower');
      expect(s.term, role).toBe(higher);
      expect(s.leader, role).toBe('b');
      const rds = drain(n);
      expect(rds.some((rd) => rd.hardState?.term === higher), role).toBe(true);
    }
  });

  test('a message with a stale term is ignored, and a stale leader’s append gets an answer carrying the newer term', () => {
    const n = newNode('a', ['a', 'b', 'c'], {}, initialState({ term: 5 }, entriesWithTerms([1, 5]), undefined));
    n.step(heartbeat('c', 'a', 5));
    drain(n);
    const before = n.status();
    n.step(app('b', 'a', 3, 2, 5, entriesWithTerms([3], 3), 3));
    n.step(heartbeat('b', 'a', 3, 2));
    n.step(voteReq('b', 'a', 4, 10, 4));
    const after = n.status();
    expect(after.term).toBe(5);
    expect(after.leader).toBe('c');
    expect(after.lastIndex).toBe(before.lastIndex);
    expect(after.commit).toBe(before.commit);
    expect(after.vote).toBe(before.vote);
    const msgs = drainMessages(n);
    // no vote granted; both stale leader messages answered with the newer term
    expect(msgs.filter((m) => m.type === 'voteResp' || m.type === 'preVoteResp')).toEqual([]);
    const answers = msgs.filter((m) => m.to === 'b');
    expect(answers.length).toBe(2);
    for (const m of answers) {
      expect(m.type).toBe('appResp');
      expect(m.term).toBe(5);
    }
  });

  test('a stale leader steps down when a follower answers its heartbeat with the newer term', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    const old = c.electLeader();
    c.run(2);
    const oldTerm = c.node(old).status().term;
    const others = ['a', 'b', 'c'].filter((x) => x !== old);
    c.isolate(old);
    const next = c.electLeader(500, others);
    const newTerm = c.node(next).status().term;
    expect(newTerm).toBeGreaterThan(oldTerm);
    expect(c.node(old).status().role).toBe('leader'); // it was not ticked: it does not know yet
    c.heal();
    c.run(1, [old]); // one heartbeat
    expect(c.node(old).status().role).toBe('follower');
    expect(c.node(old).status().term).toBe(newTerm);
    expect(c.node(next).status().role).toBe('leader');
    expect(c.node(next).status().term).toBe(newTerm);
  });

  test('the leader sends a heartbeat to every follower each heartbeatTicks ticks', () => {
    const c = new TestCluster(['a', 'b', 'c'], { heartbeatTicks: 3, electionTicks: 15 });
    const l = c.electLeader();
    c.stabilize();
    const beats: number[] = [];
    for (let t = 1; t <= 9; t++) {
      const mark = c.sent.length;
      c.run(1, [l]);
      const hb = c.sent.slice(mark).filter((m) => m.type === 'heartbeat' && m.from === l);
      if (hb.length > 0) {
        expect(new Set(hb.map((m) => m.to))).toEqual(new Set(['a', 'b', 'c'].filter((x) => x !== l)));
        beats.push(t);
      }
    }
    expect(beats).toEqual([3, 6, 9]);
  });

  test('a follower that hears no leader campaigns after a randomized timeout in [E, 2E), and different seeds give different timeouts', () => {
    const timeouts = new Set<number>();
    for (let seed = 1; seed <= 20; seed++) {
      const n = newNode('a', ['a', 'b', 'c'], { electionTicks: E }, undefined, seed);
      const t = ticksUntil(n, () => n.status().role !== 'follower');
      expect(t).toBeGreaterThanOrEqual(E);
      expect(t).toBeLessThan(2 * E);
      expect(n.status().role).toBe('preCandidate');
      const asks = drainMessages(n).filter((m) => m.type === 'preVote');
      expect(asks.map((m) => m.to).sort()).toEqual(['b', 'c']);
      timeouts.add(t);
    }
    expect(timeouts.size).toBeGreaterThan(1);
  });

  test('a replica grants one vote per term, persists it before the reply, and remembers it across a crash and restart', () => {
    const storage = new MemoryStorage();
    const opts = { id: 'c', electionTicks: E, heartbeatTicks: 1, initialConf: { voters: ['a', 'b', 'c'], learners: [] } };
    let n = new RawNode(opts, { rng: new SeededRng(1), initial: storage.loadNow() });
    n.step(voteReq('a', 'c', 1, 0, 0));
    const rd = n.ready();
    const grant = rd.messages.find((m) => m.type === 'voteResp');
    expect(grant).toMatchObject({ to: 'a', term: 1, reject: false });
    // the Ready carrying the grant asks to persist the vote first, synced
    expect(rd.hardState).toMatchObject({ term: 1, vote: 'a' });
    expect(rd.mustSync).toBe(true);
    storage.write(batchOf(rd));
    storage.sync();
    n.advance();

    n.step(voteReq('b', 'c', 1, 0, 0));
    expect(drainMessages(n).find((m) => m.type === 'voteResp')).toMatchObject({ to: 'b', reject: true });

    storage.crash();
    n = new RawNode(opts, { rng: new SeededRng(2), initial: storage.loadNow() });
    expect(n.status().term).toBe(1);
    expect(n.status().vote).toBe('a');
    n.step(voteReq('b', 'c', 1, 0, 0));
    expect(drainMessages(n).find((m) => m.type === 'voteResp')).toMatchObject({ to: 'b', reject: true });
    // the same candidate asking again (a retransmission) is granted again
    n.step(voteReq('a', 'c', 1, 0, 0));
    expect(drainMessages(n).find((m) => m.type === 'voteResp')).toMatchObject({ to: 'a', reject: false });
    // in a later term the vote is free again
    n.step(voteReq('b', 'c', 2, 0, 0));
    expect(drainMessages(n).find((m) => m.type === 'voteResp')).toMatchObject({ to: 'b', term: 2, reject: false });
  });

  test('a replica with a newer term answers a stale leader\'s heartbeat and append with its term, with PreVote and CheckQuorum off too', () => {
    for (const opts of [{ preVote: false, checkQuorum: false }, { preVote: true, checkQuorum: true }]) {
      // c's term rose while it was cut off; its old configuration may name only members gone since.
      const n = newNode('c', ['a', 'b', 'c'], opts, initialState({ term: 9 }));
      drain(n);
      n.step(heartbeat('a', 'c', 4));
      n.step(app('a', 'c', 4, 0, 0, [], 0));
      const answers = drainMessages(n);
      expect(answers, JSON.stringify(opts)).toEqual([
        expect.objectContaining({ type: 'appResp', to: 'a', term: 9 }),
        expect.objectContaining({ type: 'appResp', to: 'a', term: 9 }),
      ]);
      expect(n.status().term).toBe(9);
    }
  });

  test('a stale leader that hears a newer term from one of its followers steps down', () => {
    const c = new TestCluster(['a', 'b', 'c'], { preVote: false, checkQuorum: false });
    const l = c.electLeader();
    const term = c.node(l).status().term;
    const f = ['a', 'b', 'c'].find((x) => x !== l)!;
    c.node(l).step({ type: 'appResp', from: f, to: l, term: term + 5, reject: false, index: 0, hintIndex: 0, hintTerm: 0 });
    expect(c.node(l).status()).toMatchObject({ role: 'follower', term: term + 5 });
  });

  test('split votes resolve: after a tied election a later term elects a leader', () => {
    const ids = ['a', 'b', 'c', 'd'];
    const c = new TestCluster(ids, { preVote: false });
    // a reaches c only, b reaches d only: 2 votes each, 3 needed
    c.cut.add('a->d');
    c.cut.add('b->c');
    ticksUntil(c.node('a'), () => c.node('a').status().role === 'candidate');
    ticksUntil(c.node('b'), () => c.node('b').status().role === 'candidate');
    c.stabilize();
    for (const id of ['a', 'b']) {
      expect(c.node(id).status().role).toBe('candidate');
      expect(c.node(id).status().term).toBe(1);
    }
    expect(c.leader()).toBeUndefined();
    expect(c.node('c').status().vote).toBe('a');
    expect(c.node('d').status().vote).toBe('b');
    c.heal();
    const l = c.electLeader();
    expect(c.node(l).status().term).toBeGreaterThanOrEqual(2);
    c.run(1);
    for (const id of ids) expect(c.node(id).status().leader).toBe(l);
  });

  test('a candidate steps down when it receives an append from a leader of its term', () => {
    const n = nodeIn('candidate');
    const term = n.status().term;
    n.step(app('b', 'a', term, 0, 0, entriesWithTerms([term]), 0));
    const s = n.status();
    expect(s.role).toBe('follower');
    expect(s.term).toBe(term);
    expect(s.leader).toBe('b');
    expect(s.lastIndex).toBe(1);
    const resp = drainMessages(n).find((m) => m.type === 'appResp');
    expect(resp).toMatchObject({ to: 'b', reject: false, index: 1 });
  });

  test('a candidate with votes from a majority becomes leader and appends an empty entry of its term', () => {
    const n = newNode('a', ['a', 'b', 'c', 'd', 'e'], { preVote: false });
    ticksUntil(n, () => n.status().role === 'candidate');
    const term = n.status().term;
    const asks = drainMessages(n).filter((m) => m.type === 'vote');
    expect(asks.map((m) => m.to).sort()).toEqual(['b', 'c', 'd', 'e']);
    n.step({ type: 'voteResp', from: 'b', to: 'a', term, reject: false });
    n.step({ type: 'voteResp', from: 'c', to: 'a', term, reject: true });
    expect(n.status().role).toBe('candidate'); // 2 of 5
    n.step({ type: 'voteResp', from: 'b', to: 'a', term, reject: false }); // a duplicate counts once
    expect(n.status().role).toBe('candidate');
    n.step({ type: 'voteResp', from: 'd', to: 'a', term, reject: false });
    const s = n.status();
    expect(s.role).toBe('leader');
    expect(s.leader).toBe('a');
    expect(s.term).toBe(term);
    expect(s.lastIndex).toBe(1);
    expect(n.raftLog.entry(1)).toMatchObject({ index: 1, term, type: EntryType.Noop });
  });

  test('PreVote: a partitioned node rejoining does not disrupt a stable leader (its term is unchanged after isolation, the leader keeps its term)', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    const l = c.electLeader();
    c.run(3);
    const f = ['a', 'b', 'c'].find((x) => x !== l)!;
    const term = c.node(l).status().term;
    const mark = c.sent.length;
    c.isolate(f);
    c.run(10 * E);
    // it kept asking (PreVote) but never moved to a new term
    expect(c.sent.slice(mark).some((m) => m.type === 'preVote' && m.from === f)).toBe(true);
    expect(c.sent.slice(mark).some((m) => m.type === 'vote' && m.from === f)).toBe(false);
    expect(c.node(f).status().term).toBe(term);
    expect(c.node(l).status()).toMatchObject({ role: 'leader', term });
    c.heal();
    c.run(3 * E);
    expect(c.node(l).status()).toMatchObject({ role: 'leader', term });
    expect(c.node(f).status()).toMatchObject({ role: 'follower', term, leader: l });
  });

  test('CheckQuorum: an isolated leader steps down within about an election timeout', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    const l = c.electLeader();
    c.run(3);
    c.isolate(l);
    const n = c.node(l);
    const t = ticksUntil(n, () => n.status().role !== 'leader', 10 * E);
    // at most one full CheckQuorum window after the last one it passed
    expect(t).toBeLessThanOrEqual(2 * E);
    expect(n.status().role).toBe('follower');
    expect(n.status().leader).toBe(NONE);
    const soft = drain(n).find((rd) => rd.softState)?.softState;
    expect(soft?.reason).toMatch(/CheckQuorum/);
  });
});

