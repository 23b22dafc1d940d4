import { describe, expect, test } from 'vitest';
import { TestCluster, enc } from '../support/raft-cluster.js';

const E = 10;
const ids = ['a', 'b', 'c'];

function steady(): { c: TestCluster; l: string; f: [string, string] } {
  const c = new TestCluster(ids);
  const l = c.electLeader();
  c.run(2);
  return { c, l, f: ids.filter((x) => x !== l) as [string, string] };
}

describe('ReadIndex', () => {
  test('a leader serves a read only once a majority answers a heartbeat round after it, at its commit index', () => {
    const { c, l, f } = steady();
    c.node(l).propose(enc('w'));
    c.stabilize();
    const commit = c.node(l).status().commit;
    // no heartbeat answers: the read waits
    c.dropIf = (m) => m.type === 'heartbeatResp';
    c.node(l).readIndex('r1');
    c.stabilize();
    c.run(3, [l]);
    expect(c.get(l).readStates).toEqual([]);
    expect(c.sentWhere((m) => m.type === 'heartbeat' && m.from === l && m.readSeq > 0).length).toBeGreaterThan(0);
    // one follower's answer makes a majority with the leader
    c.dropIf = (m) => m.type === 'heartbeatResp' && m.from === f[1];
    c.run(1, [l]);
    expect(c.get(l).readStates).toEqual([{ requestId: 'r1', index: commit }]);
  });

  test('a deposed leader serves no read: its pending read fails when it steps down', () => {
    const { c, l, f } = steady();
    c.isolate(l);
    c.node(l).readIndex('stale');
    c.stabilize();
    const next = c.electLeader(500, f);
    c.node(next).propose(enc('newer'));
    c.stabilize();
    c.run(1, f);
    expect(c.get(next).applied.some((e) => e.data.length > 0)).toBe(true);
    // the old leader has not noticed yet, and must not answer
    expect(c.node(l).status().role).toBe('leader');
    expect(c.get(l).readStates).toEqual([]);
    expect(c.get(l).failedReads).toEqual([]);
    for (let t = 0; t < 3 * E && c.node(l).status().role === 'leader'; t++) c.run(1, [l]);
    expect(c.node(l).status().role).toBe('follower');
    expect(c.get(l).readStates).toEqual([]);
    expect(c.get(l).failedReads.map((r) => r.requestId)).toEqual(['stale']);
    // and the new leader serves reads
    c.heal();
    c.node(next).readIndex('fresh');
    c.stabilize();
    expect(c.get(next).readStates.map((r) => r.requestId)).toEqual(['fresh']);
  });

  test('a new leader serves no read until an entry of its own term is committed', () => {
    const { c, l, f } = steady();
    c.node(l).propose(enc('w'));
    c.stabilize();
    c.run(1);
    const target = f[0];
    // the new leader's appends (its no-op) are lost
    c.dropIf = (m) => m.type === 'app' && m.from === target;
    c.node(l).transferLeadership(target);
    c.stabilize();
    const s = c.node(target).status();
    expect(s.role).toBe('leader');
    expect(c.node(target).raftLog.term(s.commit)).toBeLessThan(s.term);
    c.node(target).readIndex('early');
    c.stabilize();
    c.run(3, [target]);
    expect(c.get(target).readStates).toEqual([]);
    expect(c.get(target).failedReads).toEqual([]);
    c.dropIf = undefined;
    c.run(2, [target]);
    const after = c.node(target).status();
    expect(c.node(target).raftLog.term(after.commit)).toBe(after.term);
    expect(c.get(target).readStates).toHaveLength(1);
    expect(c.get(target).readStates[0]!.requestId).toBe('early');
    expect(c.get(target).readStates[0]!.index).toBeGreaterThanOrEqual(after.lastIndex);
  });

  test('ReadIndex on a follower is forwarded to the leader and completes at the leader’s commit index', () => {
    const { c, l, f } = steady();
    const w = (c.node(l).propose(enc('w')) as { index: number }).index;
    c.stabilize();
    c.run(1);
    c.node(f[0]).readIndex('fr');
    const rd = c.flush();
    expect(rd.flatMap((r) => r.messages).find((m) => m.type === 'readIndex')).toMatchObject({ from: f[0], to: l, term: 0, requestId: 'fr' });
    c.stabilize();
    expect(c.get(f[0]).readStates).toEqual([{ requestId: 'fr', index: c.node(l).status().commit }]);
    expect(c.get(f[0]).readStates[0]!.index).toBeGreaterThanOrEqual(w);
    expect(c.get(l).readStates).toEqual([]);
  });

  test('a read forwarded by a follower fails when that follower’s leader changes', () => {
    const { c, l, f } = steady();
    c.isolate(l);
    c.node(f[0]).readIndex('lost');
    c.stabilize();
    c.electLeader(500, f);
    expect(c.get(f[0]).readStates).toEqual([]);
    expect(c.get(f[0]).failedReads.map((r) => r.requestId)).toEqual(['lost']);
  });
});
