import { describe, expect, test } from 'vitest';
import { EntryType, SeededRng, type Message } from '../../src/raft/index.js';
import { TestCluster, dec, enc, entriesWithTerms, initialState, logTerms, storageWith } from '../support/raft-cluster.js';
import { drainMessages, newNode, voteReq } from './helpers.js';

const voteAnswer = (msgs: Message[]) => msgs.find((m) => m.type === 'voteResp') as { reject: boolean } | undefined;

/**
 * Raft paper, Figure 8 (c): S1 leads term 4. Index 2 (term 2) is on S1 and
 * S2; S5 holds a term-3 entry at index 2. Every append carries one entry
 * (maxSizePerMsgBytes 1). S4 and S5 are down; S3 gets index 2 but not the
 * term-4 entry at index 3 (an append carrying it is lost).
 */
function figure8c(): TestCluster {
  const ids = ['S1', 'S2', 'S3', 'S4', 'S5'];
  const logs: Record<string, number[]> = { S1: [1, 2], S2: [1, 2], S3: [1], S4: [1], S5: [1, 3] };
  const storages = Object.fromEntries(
    ids.map((id) => [id, storageWith({ hardState: { term: 3, commit: 1 }, entries: entriesWithTerms(logs[id]!) })]),
  );
  const c = new TestCluster(ids, { maxSizePerMsgBytes: 1 }, 8, storages);
  c.isolate('S4');
  c.isolate('S5');
  // (S3 may see the first append, which it rejects for lacking index 2)
  c.dropIf = (m) => m.type === 'app' && m.to === 'S3' && m.entries.some((e) => e.index >= 3) && c.node('S3').raftLog.lastIndex() >= 2;
  c.campaign('S1');
  return c;
}

describe('safety', () => {
  test('a voter refuses a candidate whose log is less up to date (older last term, or same last term and shorter)', () => {
    const n = newNode('v', ['v', 'x', 'y'], {}, initialState({ term: 2 }, entriesWithTerms([1, 1, 2])));
    n.step(voteReq('x', 'v', 3, 10, 1)); // longer but older last term
    expect(voteAnswer(drainMessages(n))?.reject).toBe(true);
    n.step(voteReq('x', 'v', 4, 2, 2)); // same last term, shorter
    expect(voteAnswer(drainMessages(n))?.reject).toBe(true);
    n.step(voteReq('x', 'v', 5, 3, 2)); // same last term, as long
    expect(voteAnswer(drainMessages(n))?.reject).toBe(false);
    n.step(voteReq('y', 'v', 6, 1, 3)); // shorter but newer last term
    expect(voteAnswer(drainMessages(n))?.reject).toBe(false);
    expect(n.status().vote).toBe('y');
  });

  test('an entry of an earlier term is not committed by counting replicas (Figure 8): a majority holding it does not commit it, and a later leader may overwrite it', () => {
    const c = figure8c();
    const s1 = c.node('S1');
    expect(s1.status()).toMatchObject({ role: 'leader', term: 4 });
    c.run(3, ['S1']);
    // S1, S2 and S3 (3 of 5) hold (2, term 2), and S1 knows it
    expect(logTerms(c.node('S2')).slice(0, 2)).toEqual([1, 2]);
    expect(logTerms(c.node('S3'))).toEqual([1, 2]);
    expect(s1.status().progress?.get('S3')?.match).toBe(2);
    expect(s1.status().progress?.get('S2')?.match).toBeGreaterThanOrEqual(2);
    // ...yet it is not committed: it is not of the leader's term
    expect(s1.status().commit).toBe(1);
    expect(c.get('S1').applied.map((e) => e.index)).not.toContain(2);
    for (const id of ['S2', 'S3']) expect(c.node(id).status().commit).toBe(1);

    // Figure 8 (d): S1 crashes; S5 (last term 3) wins with S3, S4 and itself and overwrites index 2.
    c.heal();
    c.isolate('S1');
    c.isolate('S2');
    const l = c.electLeader(500, ['S3', 'S4', 'S5']);
    expect(l).toBe('S5');
    c.run(2, ['S5']);
    expect(logTerms(c.node('S3')).slice(0, 2)).toEqual([1, 3]);
    expect(logTerms(c.node('S4')).slice(0, 2)).toEqual([1, 3]);
    expect(c.node('S5').status().commit).toBeGreaterThanOrEqual(2);
  });

  test('once an entry of the leader’s term commits, the earlier-term entries before it commit with it (Figure 8 e)', () => {
    const c = figure8c();
    const s1 = c.node('S1');
    c.run(2, ['S1']);
    expect(s1.status().commit).toBe(1);
    c.dropIf = undefined; // S3 now gets index 3 (term 4)
    c.run(2, ['S1']);
    expect(logTerms(c.node('S3'))).toEqual([1, 2, 4]);
    expect(s1.status().commit).toBe(3);
    // (after the restart the state machine is rebuilt from index 1, committed before)
    expect(c.get('S1').applied.filter((e) => e.index >= 2).map((e) => [e.index, e.term])).toEqual([
      [2, 2],
      [3, 4],
    ]);
    // S5 can no longer win: S1, S2 and S3 refuse it (their last term 4 is newer)
    c.heal();
    c.isolate('S1');
    for (let i = 0; i < 40; i++) {
      c.tick(['S2', 'S3', 'S4', 'S5']);
      c.stabilize();
      expect(c.node('S5').status().role).not.toBe('leader');
    }
  });

  test('leader completeness: a replica missing committed entries cannot be elected', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const c = new TestCluster(['a', 'b', 'c'], {}, seed);
      const l = c.electLeader();
      c.run(1);
      const [fresh, stale] = ['a', 'b', 'c'].filter((x) => x !== l) as [string, string];
      c.isolate(stale);
      for (let i = 0; i < 3; i++) c.node(l).propose(enc(`w${i}`));
      c.stabilize();
      c.run(1, [l]);
      const committed = c.node(l).status().commit;
      expect(c.get(l).applied.filter((e) => e.type === EntryType.Normal).map((e) => dec(e.data))).toEqual(['w0', 'w1', 'w2']);
      c.heal();
      c.isolate(l);
      const next = c.electLeader(1000, [fresh, stale]);
      expect(next, `seed ${seed}`).toBe(fresh);
      for (let i = 1; i <= committed; i++) expect(c.node(next).raftLog.term(i)).toBe(c.node(l).raftLog.term(i));
      c.run(2, [fresh, stale]);
      expect(c.get(stale).applied.filter((e) => e.type === EntryType.Normal).map((e) => dec(e.data))).toEqual(['w0', 'w1', 'w2']);
    }
  });

  test('election safety: at most one leader per term under random message loss', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const ids = ['a', 'b', 'c', 'd', 'e'];
      const c = new TestCluster(ids, {}, seed);
      let x = seed * 7919;
      const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648), x / 2147483648);
      c.dropIf = () => rand() < 0.3;
      const leaders = new Map<number, string>();
      for (let t = 0; t < 300; t++) {
        c.tick();
        c.stabilize();
        for (const id of ids) {
          const s = c.node(id).status();
          if (s.role !== 'leader') continue;
          const seen = leaders.get(s.term);
          expect(seen === undefined || seen === id, `seed ${seed} term ${s.term}: ${seen} and ${id}`).toBe(true);
          leaders.set(s.term, id);
        }
      }
      expect(leaders.size, `seed ${seed}`).toBeGreaterThan(0);
    }
  });

  test('state machine safety: no two replicas apply different entries at one index under loss, duplication, reordering, restarts, compaction and membership changes; after healing a leader commits again', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const ids = ['a', 'b', 'c', 'd', 'e'].slice(0, seed % 2 ? 3 : 5);
      const rng = new SeededRng(seed * 31);
      const c = new TestCluster(ids, { maxInflightMsgs: 4, maxSizePerMsgBytes: 200 }, seed);
      const appliedAt = new Map<number, string>();
      const checked = new WeakMap<object, number>();
      const check = () => {
        for (const id of ids) {
          const r = c.get(id);
          for (const e of r.applied.slice(checked.get(r) ?? 0)) {
            const v = `${e.term}:${e.type}:${dec(e.data)}`;
            const prev = appliedAt.get(e.index);
            expect(prev === undefined || prev === v, `seed ${seed}: ${id} applied ${v} at ${e.index}, another replica ${prev}`).toBe(true);
            appliedAt.set(e.index, v);
          }
          checked.set(r, r.applied.length);
        }
      };
      let writes = 0;
      let joined = 0;
      let held: Message[] = [];
      for (let step = 0; step < 400; step++) {
        const x = rng.float();
        const l = c.leader();
        try {
          if (x < 0.02) {
            const id = rng.pick(ids);
            if (!c.isolated.delete(id)) c.isolated.add(id);
          } else if (x < 0.03) {
            c.restart(rng.pick(ids));
          } else if (x < 0.2) {
            c.node(l && rng.chance(0.7) ? l : rng.pick(ids)).propose(enc(`w${writes++}`));
          } else if (x < 0.22 && l) {
            c.node(l).transferLeadership(rng.pick(ids));
          } else if (x < 0.23 && l) {
            const applied = c.node(l).status().applied;
            if (applied > 0) c.node(l).compact(applied, enc('image'));
          } else if (x < 0.25) {
            const id = rng.pick(ids);
            c.node(id).reportConnectionClosed(c.node(id).status().leader || rng.pick(ids));
          } else if (x < 0.26 && l) {
            const conf = c.node(l).status().conf;
            const kind = rng.int(3);
            if (kind === 0) {
              const n = `n${joined++}`;
              c.add(n);
              ids.push(n);
              c.node(l).proposeMembershipChange({ type: 'addLearner', node: n });
            } else if (kind === 1 && conf.learners.length > 0) {
              c.node(l).proposeMembershipChange({ type: 'promote', node: rng.pick(conf.learners) });
            } else if (kind === 2 && conf.voters.length > 3) {
              c.node(l).proposeMembershipChange({ type: 'remove', node: rng.pick(conf.voters) });
            }
          }
        } catch {
          // refused (no leader, transfer in progress, one change at a time, ...)
        }
        c.tick();
        c.flush();
        const now: Message[] = held;
        held = [];
        for (const m of c.queue) {
          const y = rng.float();
          if (y < 0.1) continue; // lost
          if (y < 0.2) held.push(m); // delayed to the next round
          else now.push(m);
          if (y >= 0.2 && y < 0.25) now.push(m); // duplicated
        }
        c.queue = [];
        for (let i = now.length - 1; i > 0; i--) {
          const j = rng.int(i + 1);
          [now[i], now[j]] = [now[j]!, now[i]!];
        }
        for (const m of now) c.replicas.get(m.to)?.node.step(m);
        c.flush();
        check();
      }
      c.heal();
      c.run(100);
      check();
      const l = c.leader();
      expect(l, `seed ${seed}: no leader after healing`).toBeDefined();
      c.node(l!).propose(enc('final'));
      c.stabilize();
      c.run(3);
      check();
      const conf = c.node(l!).status().conf;
      for (const id of [...conf.voters, ...conf.learners]) {
        expect(c.get(id).applied.some((e) => e.type === EntryType.Normal && dec(e.data) === 'final'), `seed ${seed}: ${id}`).toBe(true);
      }
    }
  });
});
