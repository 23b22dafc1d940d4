import { describe, expect, test } from 'vitest';
import { NONE, RaftError, RaftErrorCode } from '../../src/raft/index.js';
import { TestCluster, enc } from '../support/raft-cluster.js';

const E = 10;
const ids = ['a', 'b', 'c'];

function steady(): { c: TestCluster; l: string; f: [string, string] } {
  const c = new TestCluster(ids);
  const l = c.electLeader();
  c.run(2);
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

describe('leadership transfer', () => {
  test('leadership moves at once to an up-to-date voter: it is told to campaign and wins the next term', () => {
    const { c, l, f } = steady();
    const term = c.node(l).status().term;
    c.node(l).transferLeadership(f[0]);
    const rds = c.flush();
    expect(rds.flatMap((rd) => rd.messages).find((m) => m.type === 'timeoutNow')).toMatchObject({ from: l, to: f[0], term });
    c.stabilize();
    expect(c.node(f[0]).status()).toMatchObject({ role: 'leader', term: term + 1 });
    expect(c.node(l).status()).toMatchObject({ role: 'follower', leader: f[0], term: term + 1 });
    c.run(1);
    expect(c.node(f[1]).status().leader).toBe(f[0]);
  });

  test('leadership transfer to a lagging voter first catches it up, then it campaigns and wins', () => {
    const { c, l, f } = steady();
    const target = f[0];
    const term = c.node(l).status().term;
    c.cut.add(`${l}->${target}`);
    for (let i = 0; i < 3; i++) c.node(l).propose(enc(`w${i}`));
    c.stabilize();
    const last = c.node(l).raftLog.lastIndex();
    expect(c.node(target).raftLog.lastIndex()).toBeLessThan(last);
    c.heal();
    const mark = c.sent.length;
    c.node(l).transferLeadership(target);
    const first = c.flush().flatMap((rd) => rd.messages);
    expect(first.some((m) => m.type === 'timeoutNow')).toBe(false);
    expect(first.some((m) => m.type === 'app' && m.to === target)).toBe(true);
    c.stabilize();
    const after = c.sent.slice(mark);
    const told = after.findIndex((m) => m.type === 'timeoutNow');
    const caughtUp = after.findIndex((m) => m.type === 'appResp' && m.from === target && !m.reject && m.index === last);
    expect(caughtUp).toBeGreaterThanOrEqual(0);
    expect(told).toBeGreaterThan(caughtUp);
    expect(c.node(target).status()).toMatchObject({ role: 'leader', term: term + 1 });
    for (let i = 1; i <= last; i++) expect(c.node(target).raftLog.term(i)).toBe(c.node(l).raftLog.term(i));
  });

  test('a transfer to an unreachable voter gives up after an election timeout; proposals are refused with TransferInProgress meanwhile', () => {
    const { c, l, f } = steady();
    const [target, other] = f;
    const term = c.node(l).status().term;
    c.isolate(target);
    c.node(l).transferLeadership(target);
    c.stabilize();
    expect(c.node(l).status().leadTransferee).toBe(target);
    expect(code(() => c.node(l).propose(enc('x')))).toBe(RaftErrorCode.TransferInProgress);
    // a forwarded proposal is not taken either
    const before = c.node(l).raftLog.lastIndex();
    c.node(other).propose(enc('fwd'));
    c.stabilize();
    expect(c.node(l).raftLog.lastIndex()).toBe(before);
    c.run(E - 1, [l, other]);
    expect(c.node(l).status().leadTransferee).toBe(target);
    expect(code(() => c.node(l).propose(enc('x')))).toBe(RaftErrorCode.TransferInProgress);
    c.run(1, [l, other]);
    expect(c.node(l).status()).toMatchObject({ role: 'leader', term, leadTransferee: NONE });
    expect(code(() => c.node(l).propose(enc('x')))).toBeUndefined();
  });

  test('a transfer request on a follower is forwarded to the leader', () => {
    const { c, l, f } = steady();
    c.node(f[1]).transferLeadership(f[0]);
    const msgs = c.flush().flatMap((rd) => rd.messages);
    expect(msgs.find((m) => m.type === 'transferLeader')).toMatchObject({ from: f[1], to: l, term: 0, target: f[0] });
    c.stabilize();
    expect(c.leader()).toBe(f[0]);
  });

  test('a transfer to a non-voter is refused with InvalidRequest', () => {
    const { c, l } = steady();
    expect(code(() => c.node(l).transferLeadership('zz'))).toBe(RaftErrorCode.InvalidRequest);
    expect(c.node(l).status().leadTransferee).toBe(NONE);
  });
});
