import { describe, expect, test } from 'vitest';
import { EntryType, RaftError, RaftErrorCode, NONE, type AppendRequest, type Message } from '../../src/raft/index.js';
import { entrySize } from '../../src/raft/log.js';
import { batchOf } from '../../src/storage/index.js';
import { TestCluster, dec, enc, entriesWithTerms, logTerms, storageWith } from '../support/raft-cluster.js';
import { app, drain, newNode, ticksUntil } from './helpers.js';

const isApp = (m: Message): m is AppendRequest => m.type === 'app';
const normal = (es: readonly { type: EntryType; data: Uint8Array }[]) => es.filter((e) => e.type === EntryType.Normal).map((e) => dec(e.data));

function raftError(fn: () => unknown): RaftError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RaftError) return e;
    throw e;
  }
  throw new Error('expected a RaftError');
}

describe('log replication', () => {
  test('the leader appends a proposal to its log and sends it with the index and term of the entry before it', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    const l = c.electLeader();
    c.run(1);
    const s = c.node(l).status();
    const prevIndex = s.lastIndex;
    const prevTerm = c.node(l).raftLog.term(prevIndex)!;
    const res = c.node(l).propose(enc('x'));
    expect(res).toEqual({ kind: 'appended', index: prevIndex + 1, term: s.term });
    const rds = c.flush();
    const rd = rds.find((r) => r.entries.length > 0)!;
    expect(rd.entries).toEqual([{ index: prevIndex + 1, term: s.term, type: EntryType.Normal, data: enc('x') }]);
    const apps = rd.messages.filter(isApp);
    expect(apps.map((m) => m.to).sort()).toEqual(['a', 'b', 'c'].filter((x) => x !== l).sort());
    for (const m of apps) {
      expect(m.prevIndex).toBe(prevIndex);
      expect(m.prevTerm).toBe(prevTerm);
      expect(m.term).toBe(s.term);
      expect(m.entries.map((e) => e.index)).toEqual([prevIndex + 1]);
    }
  });

  test('an entry commits once a majority stores it, and so do all the entries before it', () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const c = new TestCluster(ids);
    const l = c.electLeader();
    c.run(1);
    const [f1, f2, f3, f4] = ids.filter((x) => x !== l) as [string, string, string, string];
    const commit0 = c.node(l).status().commit;
    c.isolate(f2);
    c.isolate(f3);
    c.isolate(f4);
    const i1 = (c.node(l).propose(enc('x1')) as { index: number }).index;
    c.stabilize();
    const i2 = (c.node(l).propose(enc('x2')) as { index: number }).index;
    c.stabilize();
    c.run(2, [l]);
    // leader + f1 = 2 of 5: nothing new commits
    expect(c.node(l).status().commit).toBe(commit0);
    expect(c.node(f1).raftLog.lastIndex()).toBe(i2);
    expect(normal(c.get(l).applied)).toEqual([]);
    c.isolated.delete(f2);
    c.run(2, [l]);
    // f2 got both entries: 3 of 5 store i2, so i2 commits, and i1 with it
    expect(c.node(l).status().commit).toBe(i2);
    expect(normal(c.get(l).applied)).toEqual(['x1', 'x2']);
    expect(c.get(l).applied.map((e) => e.index)).toContain(i1);
    expect(c.node(f3).raftLog.lastIndex()).toBeLessThan(i1);
    // the followers learn the commit index from the leader
    expect(c.node(f1).status().commit).toBe(i2);
    expect(normal(c.get(f2).applied)).toEqual(['x1', 'x2']);
  });

  /** Five replicas; the leader's entry `idx` committed by its own write, after two followers (f1, f2) stored it. */
  function committedByOwnWrite(): { c: TestCluster; l: string; f1: string; f2: string; idx: number } {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const c = new TestCluster(ids);
    const l = c.electLeader();
    c.run(1);
    const [f1, f2] = ids.filter((x) => x !== l) as [string, string];
    const leader = c.node(l);
    const idx = (leader.propose(enc('x')) as { index: number }).index;
    const rd = leader.ready();
    for (const m of rd.messages) if (m.to === f1 || m.to === f2) c.node(m.to).step(m);
    c.flush();
    c.deliver((m) => m.to === l);
    // two followers and the leader's unsynced entry: not yet a majority of five
    expect(leader.status().commit).toBe(idx - 1);
    void c.get(l).storage.persist(batchOf(rd));
    leader.advance();
    expect(leader.status().commit).toBe(idx);
    return { c, l, f1, f2, idx };
  }

  const appends = (msgs: readonly Message[]) => msgs.filter((m): m is Extract<Message, { type: 'app' }> => m.type === 'app');

  test('a new commit sends no empty append of its own: within one tick, every follower that holds the entry is told', () => {
    const { c, l, f1, f2, idx } = committedByOwnWrite();
    const leader = c.node(l);
    if (leader.hasReady()) {
      expect(appends(leader.ready().messages)).toEqual([]);
      leader.advance();
    }
    leader.tick();
    // An append, or the heartbeat when this tick is one: both carry the commit.
    const told = leader.ready().messages.filter((m) => (m.type === 'app' || m.type === 'heartbeat') && m.commit === idx);
    leader.advance();
    // The two others never got the entry: they learn the commit once they hold it.
    expect(told.map((m) => m.to).sort()).toEqual([f1, f2].sort());
    leader.tick();
    expect(leader.hasReady() ? appends(leader.ready().messages) : []).toEqual([]);
  });

  test('a new commit rides on the next append, and the tick then has nothing more to tell', () => {
    const { c, l, f1, f2, idx } = committedByOwnWrite();
    const leader = c.node(l);
    if (leader.hasReady()) {
      leader.ready();
      leader.advance();
    }
    leader.propose(enc('y'));
    const rd = leader.ready();
    const told = appends(rd.messages).filter((m) => m.commit === idx && m.entries.length > 0);
    expect(told.map((m) => m.to)).toEqual(expect.arrayContaining([f1, f2]));
    void c.get(l).storage.persist(batchOf(rd));
    leader.advance();
    leader.tick();
    expect(leader.hasReady() ? appends(leader.ready().messages).filter((m) => m.entries.length === 0) : []).toEqual([]);
  });

  test('a follower rejects an append whose previous entry does not match, and cuts a conflicting suffix', () => {
    const storage = storageWith({ hardState: { term: 2 }, entries: entriesWithTerms([1, 1, 2, 2]) });
    const n = newNode('b', ['a', 'b', 'c'], {}, storage.loadNow());
    const persist = () => {
      for (const rd of drain(n)) {
        storage.write(batchOf(rd));
        storage.sync();
        for (const m of rd.messages) out.push(m);
      }
    };
    const out: Message[] = [];
    // prevIndex beyond the end
    n.step(app('a', 'b', 3, 5, 3, entriesWithTerms([3], 6), 0));
    // prevIndex present with another term
    n.step(app('a', 'b', 3, 2, 2, entriesWithTerms([3], 3), 0));
    persist();
    expect(out.filter((m) => m.type === 'appResp').map((m) => (m as { reject: boolean; index: number }).reject)).toEqual([true, true]);
    expect(out.filter((m) => m.type === 'appResp').map((m) => (m as { index: number }).index)).toEqual([5, 2]);
    expect(logTerms(n)).toEqual([1, 1, 2, 2]);
    // the matching append: entry 3 (term 3) conflicts with 3 (term 2), which is cut with 4 after it
    out.length = 0;
    n.step(app('a', 'b', 3, 2, 1, entriesWithTerms([3], 3), 0));
    persist();
    expect(out.find((m) => m.type === 'appResp')).toMatchObject({ reject: false, index: 3 });
    expect(logTerms(n)).toEqual([1, 1, 3]);
    expect(n.status().lastIndex).toBe(3);
    expect(storage.loadNow().entries.map((e) => e.term)).toEqual([1, 1, 3]);
  });

  // Raft paper, Figure 7: the leader's log at the top (term 8 starts) and six possible follower logs.
  const FIG7_LEADER = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const FIG7: Record<string, number[]> = {
    a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
    b: [1, 1, 1, 4],
    c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    e: [1, 1, 1, 4, 4, 4, 4],
    f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  };

  function figure7(): TestCluster {
    const ids = ['L', ...Object.keys(FIG7)];
    const storages = Object.fromEntries(
      Object.entries({ L: FIG7_LEADER, ...FIG7 }).map(([id, terms]) => [id, storageWith({ hardState: { term: 7 }, entries: entriesWithTerms(terms) })]),
    );
    const c = new TestCluster(ids, {}, 7, storages);
    c.campaign('L');
    return c;
  }

  test('the leader repairs every divergent follower log of Figure 7 (cases a–f)', () => {
    const c = figure7();
    const leader = c.node('L').status();
    expect(leader.role).toBe('leader');
    expect(leader.term).toBe(8);
    c.run(2, ['L']);
    const expected = [...FIG7_LEADER, 8];
    expect(logTerms(c.node('L'))).toEqual(expected);
    for (const id of Object.keys(FIG7)) {
      expect(logTerms(c.node(id)), `follower (${id})`).toEqual(expected);
      expect(c.get(id).storage.loadNow().entries.map((e) => e.term), `follower (${id}) storage`).toEqual(expected);
      expect(c.node(id).status().commit, `follower (${id})`).toBe(11);
    }
  });

  test('fast back-off: a follower’s rejection hint lets the leader skip a whole conflicting term (Figure 7 f)', () => {
    const c = figure7();
    c.run(2, ['L']);
    expect(logTerms(c.node('f'))).toEqual([...FIG7_LEADER, 8]);
    // one entry at a time, the leader would probe prevIndex 10, 9, ..., 3: 7 rejections and 8 appends
    const rejections = c.sentWhere((m) => m.type === 'appResp' && m.from === 'f' && m.reject);
    // (appends without entries only carry the commit index once f is repaired)
    const appendsToF = c.sentWhere((m) => isApp(m) && m.to === 'f' && m.entries.length > 0);
    expect(rejections.length).toBeLessThanOrEqual(2);
    expect(appendsToF.length).toBeLessThanOrEqual(3);
    // and so for every follower: at most one rejection each
    for (const id of Object.keys(FIG7)) {
      expect(c.sentWhere((m) => m.type === 'appResp' && m.from === id && m.reject).length, id).toBeLessThanOrEqual(1);
    }
  });

  test('a proposal on a follower is forwarded to the leader and committed', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    const l = c.electLeader();
    c.run(1);
    const f = ['a', 'b', 'c'].find((x) => x !== l)!;
    expect(c.node(f).propose(enc('fwd'))).toEqual({ kind: 'forwarded', leader: l });
    const rds = c.flush();
    const fwd = rds.flatMap((rd) => rd.messages).find((m) => m.type === 'prop');
    expect(fwd).toMatchObject({ from: f, to: l, term: 0 });
    expect(fwd?.type === 'prop' && fwd.entries.map((e) => dec(e.data))).toEqual(['fwd']);
    // a follower does not append it itself
    expect(c.node(f).raftLog.lastIndex()).toBe(c.node(l).raftLog.lastIndex());
    c.stabilize();
    c.run(1);
    const last = c.node(l).raftLog.entry(c.node(l).raftLog.lastIndex())!;
    expect(dec(last.data)).toBe('fwd');
    for (const id of ['a', 'b', 'c']) expect(normal(c.get(id).applied)).toEqual(['fwd']);
  });

  test('a proposal with no leader known throws NoLeader carrying the term', () => {
    const n = newNode('a', ['a', 'b', 'c'], { preVote: false });
    let err = raftError(() => n.propose(enc('x')));
    expect(err.code).toBe(RaftErrorCode.NoLeader);
    expect(err.payload).toMatchObject({ term: 0, leader: NONE });
    ticksUntil(n, () => n.status().role === 'candidate');
    err = raftError(() => n.propose(enc('x')));
    expect(err.code).toBe(RaftErrorCode.NoLeader);
    expect(err.payload.term).toBe(1);
    expect(n.status().lastIndex).toBe(0);
  });
});

describe('flow control', () => {
  test('in replicate state no more than maxInflightMsgs appends are outstanding to a follower that does not answer', () => {
    const c = new TestCluster(['a', 'b', 'c'], { maxInflightMsgs: 3 });
    const l = c.electLeader();
    c.run(1);
    const [fast, slow] = ['a', 'b', 'c'].filter((x) => x !== l) as [string, string];
    expect(c.node(l).status().progress?.get(slow)?.state).toBe('replicate');
    c.dropIf = (m) => m.from === slow;
    const mark = c.sent.length;
    for (let i = 0; i < 10; i++) {
      c.node(l).propose(enc(`x${i}`));
      c.stabilize();
    }
    c.run(5, [l]);
    const toSlow = c.sent.slice(mark).filter((m) => isApp(m) && m.to === slow && m.entries.length > 0);
    const toFast = c.sent.slice(mark).filter((m) => isApp(m) && m.to === fast && m.entries.length > 0);
    expect(toSlow.length).toBe(3);
    expect(toFast.length).toBe(10);
    c.heal();
    c.run(3, [l]);
    expect(c.node(slow).raftLog.lastIndex()).toBe(c.node(l).raftLog.lastIndex());
  });

  test('a follower whose appends were lost while the window was full catches up once the link recovers', () => {
    const c = new TestCluster(['a', 'b', 'c'], { maxInflightMsgs: 3 });
    const l = c.electLeader();
    c.run(1);
    const slow = ['a', 'b', 'c'].find((x) => x !== l)!;
    c.dropIf = (m) => m.type === 'app' && m.to === slow;
    for (let i = 0; i < 5; i++) {
      c.node(l).propose(enc(`x${i}`));
      c.stabilize();
    }
    expect(c.node(l).status().progress?.get(slow)).toMatchObject({ state: 'replicate' });
    expect(c.node(slow).raftLog.lastIndex()).toBeLessThan(c.node(l).raftLog.lastIndex());
    c.dropIf = undefined;
    c.run(5, [l]);
    expect(c.node(slow).raftLog.lastIndex()).toBe(c.node(l).raftLog.lastIndex());
    expect(c.node(l).status().progress?.get(slow)).toMatchObject({ state: 'replicate', match: c.node(l).raftLog.lastIndex() });
  });

  test('an append message carries at most maxSizePerMsgBytes of entries, but always at least one entry', () => {
    const c = new TestCluster(['a', 'b', 'c'], { maxSizePerMsgBytes: 100 });
    const l = c.electLeader();
    c.run(1);
    const f = ['a', 'b', 'c'].find((x) => x !== l)!;
    const mark = c.sent.length;
    for (let i = 0; i < 6; i++) c.node(l).propose(enc('y'.repeat(20))); // 44 bytes each: two fit in 100
    c.stabilize();
    const apps = c.sent.slice(mark).filter((m): m is AppendRequest => isApp(m) && m.to === f && m.entries.length > 0);
    expect(apps.length).toBe(3);
    for (const m of apps) {
      expect(m.entries.length).toBeGreaterThanOrEqual(1);
      expect(m.entries.reduce((n, e) => n + entrySize(e), 0)).toBeLessThanOrEqual(100);
    }
    expect(apps.flatMap((m) => m.entries).length).toBe(6);
    const mark2 = c.sent.length;
    c.node(l).propose(enc('z'.repeat(500)));
    c.node(l).propose(enc('z'));
    c.stabilize();
    const big = c.sent.slice(mark2).filter((m): m is AppendRequest => isApp(m) && m.to === f && m.entries.length > 0);
    expect(big.map((m) => m.entries.length)).toEqual([1, 1]);
    expect(big[0]!.entries[0]!.data.length).toBe(500);
    expect(c.node(f).raftLog.lastIndex()).toBe(c.node(l).raftLog.lastIndex());
  });

  test('in probe state the leader sends one append per heartbeat response', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    const l = c.electLeader();
    c.run(1);
    const f = ['a', 'b', 'c'].find((x) => x !== l)!;
    c.node(l).reportConnectionClosed(f);
    expect(c.node(l).status().progress?.get(f)?.state).toBe('probe');
    // f receives the appends but its acknowledgements are lost: it stays in probe
    c.dropIf = (m) => m.from === f && m.type === 'appResp';
    const mark = c.sent.length;
    for (let i = 0; i < 5; i++) {
      c.node(l).propose(enc(`p${i}`));
      c.stabilize();
    }
    const appsAfterProposals = c.sent.slice(mark).filter((m) => isApp(m) && m.to === f).length;
    expect(appsAfterProposals).toBe(1);
    for (let hb = 1; hb <= 3; hb++) {
      c.run(1, [l]);
      const apps = c.sent.slice(mark).filter((m) => isApp(m) && m.to === f).length;
      const hbResps = c.sent.slice(mark).filter((m) => m.type === 'heartbeatResp' && m.from === f).length;
      expect(hbResps).toBe(hb);
      expect(apps).toBe(1 + hb);
    }
    expect(c.node(l).status().progress?.get(f)?.state).toBe('probe');
  });
});
