import { describe, expect, it } from 'vitest';
import type { ReplicaHealth } from '../../src/api/coordinator/index.js';
import { FAILED_REPLICA_PENALTY_MS, LeaderTracker, UNREACHABLE_LEADER_GRACE_MS, type LeaderTrackerDeps } from '../../src/client/leader-tracker.js';
import type { ReplicaProbe } from '../../src/client/probe.js';

function health(id: string, role: ReplicaHealth['role'], leader: string | null, term = 1): ReplicaHealth {
  return {
    status: leader === null ? 'no_leader' : 'ok',
    id,
    role,
    leader,
    term,
    commit_index: 1,
    applied_index: 1,
    state_hash: 'h',
    cluster_id: 't',
    version: '0',
    started_at_ms: 0,
    uptime: '1s',
    uptime_ms: 1_000,
  };
}

/** Replicas by address: a health answer, or undefined for one that does not answer. */
function fakeCluster(replicas: Record<string, ReplicaHealth | undefined>, directory: Record<string, string> = {}) {
  let nowMs = 0;
  const probed: string[] = [];
  const deps: LeaderTrackerDeps = {
    async probe(address): Promise<ReplicaProbe> {
      probed.push(address);
      const h = replicas[address];
      return h === undefined ? { address, ok: false, error: 'connection refused' } : { address, ok: true, health: h, latencyMs: 1 };
    },
    async lookUpAddress(_via, id) {
      return directory[id];
    },
    now: () => nowMs,
  };
  return { deps, probed, replicas, advance: (ms: number) => (nowMs += ms) };
}

describe('LeaderTracker', () => {
  it('goes to the replica that says it leads, at the highest term', async () => {
    const c = fakeCluster({
      a: health('c1', 'leader', 'c1', 2),
      b: health('c2', 'leader', 'c2', 3),
      c: health('c3', 'follower', 'c2', 3),
    });
    const t = new LeaderTracker(['a', 'b', 'c'], 5_000, c.deps);
    const chosen = await t.target();
    // Discovery stops at the first leader it hears; a stale leader found first is left on its first failure.
    expect(['a', 'b']).toContain(chosen);
    t.failed('a');
    c.replicas['a'] = undefined;
    expect(await t.target()).toBe('b');
    expect(t.knownLeader()).toEqual({ address: 'b', id: 'c2', term: 3 });
  });

  it('without a leader, uses a replica that answers, and looks again after a failure', async () => {
    const c = fakeCluster({ a: undefined, b: health('c2', 'candidate', null, 4), c: health('c3', 'follower', null, 4) });
    const t = new LeaderTracker(['a', 'b', 'c'], 5_000, c.deps);
    expect(await t.target()).toBe('b');
    t.succeeded('b');
    expect(await t.target()).toBe('b');
    t.failed('b');
    c.replicas['b'] = undefined;
    expect(await t.target()).toBe('c');
    c.replicas['a'] = health('c1', 'leader', 'c1', 5);
    t.failed('c');
    expect(await t.target()).toBe('a');
  });

  it('with nothing answering, still names each replica in turn (the attempt fails fast and counts)', async () => {
    const c = fakeCluster({ a: undefined, b: undefined });
    const t = new LeaderTracker(['a', 'b'], 5_000, c.deps);
    const picks: string[] = [];
    for (let i = 0; i < 4; i++) {
      const p = await t.target();
      picks.push(p);
      t.failed(p);
    }
    expect(picks).toEqual(['a', 'b', 'a', 'b']);
  });

  it('finds a leader outside the configured list through a replica that names it', async () => {
    const c = fakeCluster({ a: health('c1', 'follower', 'c4', 7), d: health('c4', 'leader', 'c4', 7) }, { c4: 'd' });
    const t = new LeaderTracker(['a'], 5_000, c.deps);
    expect(await t.target()).toBe('d');
    expect(t.knownAddresses()).toEqual(['a', 'd']);
  });

  it('follows a redirect at once, and checks a leader again after leaderRecheckMs, in the background', async () => {
    const c = fakeCluster({ a: health('c1', 'leader', 'c1'), b: health('c2', 'follower', 'c1') });
    const t = new LeaderTracker(['a', 'b'], 5_000, c.deps);
    expect(await t.target()).toBe('a');
    t.redirected('b', 'c2');
    c.probed.length = 0;
    expect(await t.target()).toBe('b');
    expect(c.probed).toEqual([]);
    c.advance(5_000);
    c.replicas['a'] = health('c1', 'follower', 'c2', 2);
    c.replicas['b'] = health('c2', 'leader', 'c2', 2);
    expect(await t.target()).toBe('b');
    await new Promise((r) => setImmediate(r));
    expect(c.probed.length).toBeGreaterThan(0);
    expect(t.knownLeader()).toMatchObject({ address: 'b', term: 2 });
  });

  it('shares one discovery among concurrent calls', async () => {
    const c = fakeCluster({ a: health('c1', 'leader', 'c1'), b: health('c2', 'follower', 'c1') });
    const t = new LeaderTracker(['a', 'b'], 5_000, c.deps);
    const targets = await Promise.all([t.target(), t.target(), t.target()]);
    expect(targets).toEqual(['a', 'a', 'a']);
    expect(c.probed.filter((p) => p === 'a')).toHaveLength(1);
  });

  it('passes over a leader that just failed an attempt while another replica answers, for FAILED_REPLICA_PENALTY_MS', async () => {
    const c = fakeCluster({ a: health('c1', 'leader', 'c1'), b: health('c2', 'follower', 'c1') });
    const t = new LeaderTracker(['a', 'b'], 5_000, c.deps);
    expect(await t.target()).toBe('a');
    t.failed('a'); // it answers its health, but did not serve the call (a lost quorum, a stuck disk)
    expect(await t.target()).toBe('b');
    t.failed('b');
    // Both failed just now: the one that claims to lead is as good as any.
    expect(await t.target()).toBe('a');
    t.failed('a');
    c.advance(FAILED_REPLICA_PENALTY_MS);
    t.failed('b');
    expect(await t.target()).toBe('a');
  });

  it('without a leader, writes wait (undefined) while reads go to a replica that answers', async () => {
    const c = fakeCluster({ a: health('c1', 'candidate', null, 2), b: health('c2', 'follower', null, 2) });
    const t = new LeaderTracker(['a', 'b'], 5_000, c.deps);
    expect(await t.writeTarget()).toBeUndefined();
    expect(t.noLeaderReason()).toBe('no leader (answering: c1, c2; none knows a leader, election running?)');
    expect(await t.target()).toBe('a');
    c.replicas['b'] = health('c2', 'leader', 'c2', 3);
    expect(await t.writeTarget()).toBe('b');
  });

  it('writes go through a follower once the leader it follows has been out of reach for UNREACHABLE_LEADER_GRACE_MS', async () => {
    const c = fakeCluster({ a: undefined, b: health('c2', 'follower', 'c1', 2), c: health('c3', 'follower', 'c1', 2) });
    const t = new LeaderTracker(['a', 'b', 'c'], 5_000, c.deps);
    expect(await t.writeTarget()).toBeUndefined(); // c1 may just have crashed: its followers notice within a heartbeat or two
    expect(t.noLeaderReason()).toBe('no leader reachable (answering: c2, c3; they follow c1, which does not answer this client)');
    c.advance(UNREACHABLE_LEADER_GRACE_MS);
    expect(await t.writeTarget()).toBe('b');
  });

  it('with nothing answering, a write still names a replica (its attempt fails fast, with the real reason)', async () => {
    const c = fakeCluster({ a: undefined, b: undefined });
    const t = new LeaderTracker(['a', 'b'], 5_000, c.deps);
    expect(await t.writeTarget()).toBe('a');
    expect(t.noLeaderReason()).toBe('no replica answers');
  });
});
