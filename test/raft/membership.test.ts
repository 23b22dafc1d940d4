import { describe, expect, test } from 'vitest';
import { EntryType, RaftError, RaftErrorCode, encodeConfChange, type Entry } from '../../src/raft/index.js';
import { TestCluster, enc, entriesWithTerms, initialState, logTerms } from '../support/raft-cluster.js';
import { app, drainMessages, newNode, ticksUntil } from './helpers.js';

const E = 10;

function err(fn: () => unknown): RaftError | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof RaftError) return e;
    throw e;
  }
  return undefined;
}

function steady(ids = ['a', 'b', 'c']): { c: TestCluster; l: string; f: string[] } {
  const c = new TestCluster(ids);
  const l = c.electLeader();
  c.run(2);
  return { c, l, f: ids.filter((x) => x !== l) };
}

describe('membership changes', () => {
  test('learners never vote or campaign, and a learner’s vote does not count', () => {
    const c = new TestCluster([]);
    for (const id of ['a', 'b', 'c', 'd']) c.add(id, { voters: ['a', 'b', 'c'], learners: ['d'] });
    c.tick(['d'], 20 * E);
    c.stabilize();
    expect(c.node('d').status()).toMatchObject({ role: 'follower', term: 0 });
    expect(c.sentWhere((m) => m.from === 'd')).toEqual([]);
    const l = c.electLeader(500, ['a', 'b', 'c', 'd']);
    expect(l).not.toBe('d');
    c.run(20 * E);
    expect(c.sentWhere((m) => (m.type === 'vote' || m.type === 'preVote') && (m.to === 'd' || m.from === 'd'))).toEqual([]);
    expect(c.node('d').status()).toMatchObject({ role: 'follower', leader: l });
    // it does receive the log
    expect(logTerms(c.node('d'))).toEqual(logTerms(c.node(l)));
    expect(c.node(l).status().progress?.get('d')?.learner).toBe(true);

    // a tally over voters {x, y} ignores a grant from learner z
    const x = newNode('x', ['x', 'y'], { preVote: false, initialConf: { voters: ['x', 'y'], learners: ['z'] } });
    ticksUntil(x, () => x.status().role === 'candidate');
    expect(drainMessages(x).filter((m) => m.type === 'vote').map((m) => m.to)).toEqual(['y']);
    const term = x.status().term;
    x.step({ type: 'voteResp', from: 'z', to: 'x', term, reject: false });
    expect(x.status().role).toBe('candidate');
    x.step({ type: 'voteResp', from: 'y', to: 'x', term, reject: false });
    expect(x.status().role).toBe('leader');
  });

  test('promoting a learner that has not caught up is refused with LearnerNotCaughtUp', () => {
    const { c, l } = steady();
    for (let i = 0; i < 3; i++) c.node(l).propose(enc(`w${i}`));
    c.stabilize();
    c.add('d');
    c.isolate('d');
    c.node(l).proposeMembershipChange({ type: 'addLearner', node: 'd' });
    c.stabilize();
    c.run(1, [l]);
    const e = err(() => c.node(l).proposeMembershipChange({ type: 'promote', node: 'd' }));
    expect(e?.code).toBe(RaftErrorCode.LearnerNotCaughtUp);
    expect(e?.payload).toMatchObject({ match: 0, commit: c.node(l).status().commit });
    expect(c.node(l).status().conf.learners).toEqual(['d']);
    // once it has caught up, the promotion goes through
    c.heal();
    c.run(3, [l]);
    expect(c.node(l).status().progress?.get('d')?.match).toBe(c.node(l).status().commit);
    const idx = c.node(l).proposeMembershipChange({ type: 'promote', node: 'd' });
    c.stabilize();
    c.run(1, [l]);
    expect(c.node(l).status().commit).toBeGreaterThanOrEqual(idx);
    for (const id of ['a', 'b', 'c', 'd']) expect(c.node(id).status().conf).toEqual({ voters: ['a', 'b', 'c', 'd'], learners: [] });
  });

  test('only one membership change at a time: another is refused with ConfChangeInProgress until the first commits', () => {
    const { c, l } = steady();
    c.add('d');
    c.add('e');
    const first = c.node(l).proposeMembershipChange({ type: 'addLearner', node: 'd' });
    const e = err(() => c.node(l).proposeMembershipChange({ type: 'addLearner', node: 'e' }));
    expect(e?.code).toBe(RaftErrorCode.ConfChangeInProgress);
    expect(c.node(l).raftLog.lastIndex()).toBe(first);
    c.stabilize();
    expect(c.node(l).status().commit).toBeGreaterThanOrEqual(first);
    expect(err(() => c.node(l).proposeMembershipChange({ type: 'addLearner', node: 'e' }))).toBeUndefined();
    c.stabilize();
    expect(c.node(l).status().conf.learners).toEqual(['d', 'e']);
  });

  test('a new configuration is in force as soon as it is appended, before it commits', () => {
    const { c, l, f } = steady();
    const [f1, f2] = f as [string, string];
    // leader side: a learner gets a Progress and appends at once
    c.add('d');
    c.isolate(f1);
    c.isolate(f2);
    const i1 = c.node(l).proposeMembershipChange({ type: 'addLearner', node: 'd' });
    c.stabilize();
    expect(c.node(l).status().commit).toBeLessThan(i1);
    expect(c.node(l).status().conf.learners).toEqual(['d']);
    expect(c.node(l).status().progress?.has('d')).toBe(true);
    expect(c.sentWhere((m) => m.type === 'app' && m.to === 'd').length).toBeGreaterThan(0);
    c.heal();
    c.run(2, [l]);
    expect(c.node(l).status().commit).toBeGreaterThanOrEqual(i1);

    // follower side: f1 holds the (uncommitted) removal of f2 and campaigns under the new configuration
    c.isolate(f2);
    c.dropIf = (m) => m.type === 'appResp' && m.from === f1;
    const i2 = c.node(l).proposeMembershipChange({ type: 'remove', node: f2 });
    c.stabilize();
    expect(c.node(l).status().conf.voters).not.toContain(f2);
    expect(c.node(f1).raftLog.lastIndex()).toBe(i2);
    expect(c.node(f1).status().commit).toBeLessThan(i2);
    expect([...c.node(f1).status().conf.voters].sort()).toEqual([l, f1].sort());
    c.isolate(l);
    c.dropIf = undefined;
    const mark = c.sent.length;
    ticksUntil(c.node(f1), () => c.node(f1).status().role !== 'follower', 100);
    c.flush();
    const asked = c.sent.slice(mark).filter((m) => m.type === 'preVote' && m.from === f1).map((m) => m.to);
    expect(asked).toEqual([l]);
  });

  test('a configuration is read from the log on start, and a membership change cut from a follower’s log no longer applies', () => {
    const removeC: Entry = {
      index: 2,
      term: 1,
      type: EntryType.ConfChange,
      data: encodeConfChange({ change: { type: 'remove', node: 'c' }, conf: { voters: ['a', 'b'], learners: [] } }),
    };
    const n = newNode('b', ['a', 'b', 'c'], {}, initialState({ term: 1 }, [...entriesWithTerms([1]), removeC]));
    expect(n.status().conf).toEqual({ voters: ['a', 'b'], learners: [] });
    // a new leader of term 2 overwrites the uncommitted change
    n.step(app('c', 'b', 2, 1, 1, entriesWithTerms([2], 2), 0));
    expect(logTerms(n)).toEqual([1, 2]);
    expect(n.status().conf).toEqual({ voters: ['a', 'b', 'c'], learners: [] });
    // and b campaigns among all three again
    ticksUntil(n, () => n.status().role !== 'follower', 100);
    expect(drainMessages(n).filter((m) => m.type === 'preVote').map((m) => m.to).sort()).toEqual(['a', 'c']);
  });

  test('a removed leader steps down once its removal commits, and the others elect a new leader', () => {
    const { c, l, f } = steady();
    const term = c.node(l).status().term;
    c.dropIf = (m) => m.from === l;
    const idx = c.node(l).proposeMembershipChange({ type: 'remove', node: l });
    c.stabilize();
    expect([...c.node(l).status().conf.voters].sort()).toEqual([...f].sort());
    expect(c.node(l).status().role).toBe('leader'); // not committed yet
    c.dropIf = undefined;
    c.run(1, [l]);
    expect(c.node(l).status().commit).toBeGreaterThanOrEqual(idx);
    expect(c.node(l).status().role).toBe('follower');
    const mark = c.sent.length;
    const next = c.electLeader(1000);
    expect(f).toContain(next);
    expect(c.node(next).status().term).toBeGreaterThan(term);
    expect([...c.node(next).status().conf.voters].sort()).toEqual([...f].sort());
    c.run(5 * E);
    // the removed replica neither campaigns nor is asked to vote
    expect(c.sent.slice(mark).filter((m) => (m.type === 'vote' || m.type === 'preVote') && (m.from === l || m.to === l))).toEqual([]);
    expect(c.node(l).status().role).toBe('follower');
  });

  test('membership changes go to the leader; invalid ones are refused with InvalidConfChange', () => {
    const { c, l, f } = steady();
    expect(err(() => c.node(f[0]!).proposeMembershipChange({ type: 'addLearner', node: 'd' }))?.code).toBe(RaftErrorCode.NotLeader);
    expect(err(() => c.node(l).proposeMembershipChange({ type: 'addLearner', node: f[0]! }))?.code).toBe(RaftErrorCode.InvalidConfChange);
    expect(err(() => c.node(l).proposeMembershipChange({ type: 'promote', node: 'zz' }))?.code).toBe(RaftErrorCode.InvalidConfChange);
    expect(err(() => c.node(l).proposeMembershipChange({ type: 'remove', node: 'zz' }))?.code).toBe(RaftErrorCode.InvalidConfChange);
    expect(c.node(l).status().conf.voters).toHaveLength(3);
  });
});
