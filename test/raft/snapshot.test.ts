import { describe, expect, test } from 'vitest';
import { EntryType, RaftError, RaftErrorCode, type SnapshotRequest } from '../../src/raft/index.js';
import { TestCluster, dec, enc, logTerms } from '../support/raft-cluster.js';

const E = 10;
const ids = ['a', 'b', 'c'];

/** A steady cluster whose leader has applied `n` writes and compacted its log up to its applied index. */
function compacted(n = 5): { c: TestCluster; l: string; f: [string, string]; snapIndex: number } {
  const c = new TestCluster(ids);
  const l = c.electLeader();
  c.run(1);
  for (let i = 0; i < n; i++) c.node(l).propose(enc(`w${i}`));
  c.stabilize();
  c.run(1);
  const snapIndex = c.node(l).status().applied;
  c.node(l).compact(snapIndex, enc(`image@${snapIndex}`));
  c.stabilize();
  return { c, l, f: ids.filter((x) => x !== l) as [string, string], snapIndex };
}

const snaps = (c: TestCluster, to: string) => c.sentWhere((m): m is SnapshotRequest => m.type === 'snap' && m.to === to) as SnapshotRequest[];

describe('snapshots and log compaction', () => {
  test('the leader compacts its log up to the applied index and hands the snapshot to storage', () => {
    const { c, l, snapIndex } = compacted();
    const r = c.get(l);
    const rd = r.readies.find((x) => x.compaction);
    expect(rd?.compaction?.meta).toMatchObject({ index: snapIndex, term: c.node(l).status().term, conf: { voters: ids, learners: [] } });
    expect(rd?.mustSync).toBe(true);
    expect(c.node(l).status().firstIndex).toBe(snapIndex + 1);
    expect(c.node(l).raftLog.term(snapIndex - 1)).toBeUndefined();
    const stored = r.storage.loadNow();
    expect(stored.snapshot?.meta.index).toBe(snapIndex);
    expect(dec(stored.snapshot!.data)).toBe(`image@${snapIndex}`);
    expect(stored.entries.every((e) => e.index > snapIndex)).toBe(true);
    // beyond the applied index it is refused; an older one changes nothing
    let code: RaftErrorCode | undefined;
    try {
      c.node(l).compact(c.node(l).status().lastIndex + 1, enc('x'));
    } catch (e) {
      code = (e as RaftError).code;
    }
    expect(code).toBe(RaftErrorCode.InvalidRequest);
    c.node(l).compact(snapIndex - 1, enc('older'));
    expect(c.node(l).hasReady()).toBe(false);
    expect(c.node(l).status().firstIndex).toBe(snapIndex + 1);
  });

  test('a learner added after compaction catches up through a snapshot and then the entries after it', () => {
    const { c, l, snapIndex } = compacted();
    c.node(l).propose(enc('after'));
    c.stabilize();
    const d = c.add('d');
    const idx = c.node(l).proposeMembershipChange({ type: 'addLearner', node: 'd' });
    c.stabilize();
    c.run(2, [l]);
    const sent = snaps(c, 'd');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.snapshot.meta.index).toBe(snapIndex);
    expect(dec(sent[0]!.snapshot.data)).toBe(`image@${snapIndex}`);
    // its Ready hands the snapshot to the application, then the entries after it
    const withSnap = d.readies.findIndex((rd) => rd.snapshot !== undefined);
    expect(withSnap).toBeGreaterThanOrEqual(0);
    expect(d.readies[withSnap]!.snapshot!.meta.index).toBe(snapIndex);
    const later = d.readies.slice(withSnap + 1).flatMap((rd) => rd.entries);
    expect(later[0]?.index).toBe(snapIndex + 1);
    expect(d.node.status()).toMatchObject({ firstIndex: snapIndex + 1, lastIndex: c.node(l).status().lastIndex });
    expect(logTerms(d.node)).toEqual(logTerms(c.node(l)));
    expect(d.node.status().commit).toBeGreaterThanOrEqual(idx);
    expect(d.applied[0]?.index).toBe(snapIndex + 1);
    expect(d.applied.filter((e) => e.type === EntryType.Normal).map((e) => dec(e.data))).toEqual(['after']);
    expect(d.node.status().conf).toEqual({ voters: ids, learners: ['d'] });
    expect(d.storage.loadNow().snapshot?.meta.index).toBe(snapIndex);
  });

  test('a voter that fell behind the compacted log receives a snapshot and catches up', () => {
    const c = new TestCluster(ids);
    const l = c.electLeader();
    c.run(1);
    const f = ids.find((x) => x !== l)!;
    c.isolate(f);
    for (let i = 0; i < 5; i++) c.node(l).propose(enc(`w${i}`));
    c.stabilize();
    c.run(1, ids.filter((x) => x !== f));
    const snapIndex = c.node(l).status().applied;
    c.node(l).compact(snapIndex, enc('image'));
    c.node(l).propose(enc('tail'));
    c.stabilize();
    expect(c.node(f).status().lastIndex).toBeLessThan(snapIndex);
    c.heal();
    c.run(3, [l]);
    expect(snaps(c, f)).toHaveLength(1);
    expect(logTerms(c.node(f))).toEqual(logTerms(c.node(l)));
    expect(c.node(f).status().firstIndex).toBe(snapIndex + 1);
    expect(c.node(l).status().progress?.get(f)).toMatchObject({ state: 'replicate', match: c.node(l).status().lastIndex });
  });

  test('a lost snapshot is sent again after an election timeout', () => {
    const { c, l, f, snapIndex } = compacted();
    void f;
    c.add('d');
    let dropped = 0;
    c.dropIf = (m) => m.type === 'snap' && dropped++ === 0;
    c.node(l).proposeMembershipChange({ type: 'addLearner', node: 'd' });
    c.stabilize();
    expect(snaps(c, 'd')).toHaveLength(1);
    expect(c.node(l).status().progress?.get('d')?.state).toBe('snapshot');
    c.run(E - 1, [l]);
    expect(snaps(c, 'd')).toHaveLength(1);
    c.run(3, [l]);
    expect(snaps(c, 'd')).toHaveLength(2);
    c.run(2, [l]);
    expect(c.node('d').status().firstIndex).toBe(snapIndex + 1);
    expect(logTerms(c.node('d'))).toEqual(logTerms(c.node(l)));
  });

  test('a replica restarts from its snapshot and the entries after it', () => {
    const { c, l, f, snapIndex } = compacted();
    c.node(l).propose(enc('tail'));
    c.stabilize();
    c.run(1);
    const before = c.node(l).status();
    const r = c.restart(l);
    const s = r.node.status();
    expect(s).toMatchObject({ role: 'follower', term: before.term, firstIndex: snapIndex + 1, lastIndex: before.lastIndex, applied: snapIndex });
    expect(s.conf).toEqual({ voters: ids, learners: [] });
    expect(r.node.raftLog.snapshot.meta.index).toBe(snapIndex);
    // the entries after the snapshot are applied again, nothing before it
    c.run(2, f);
    c.run(30);
    expect(r.applied.every((e) => e.index > snapIndex)).toBe(true);
    expect(r.applied.filter((e) => e.type === EntryType.Normal).map((e) => dec(e.data))).toEqual(['tail']);
  });
});
