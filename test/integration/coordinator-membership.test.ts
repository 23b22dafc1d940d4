/**
 * Issue 3 item 10, with real processes: leadership transfer, a replica whose
 * data directory was wiped rejoining through a snapshot (removed, wiped,
 * added back as a learner and promoted), and the replacement of a dead
 * replica by a fourth one (`torua coordinator --join`).
 */
import { describe, expect, test } from 'vitest';
import { useClusters, waitFor, Writer, type Cluster } from '../support/cluster-harness.js';

const clusters = useClusters();

async function expectNothingLost(h: Cluster, acked: readonly string[], ids: readonly string[] = h.voters): Promise<void> {
  await h.waitForConvergence(ids);
  for (const id of ids) expect(await h.missingOn(id, acked), `acknowledged writes missing on ${id}`).toEqual([]);
}

/** GET /cluster/members on `via`: id → role. */
async function membersSeenBy(h: Cluster, via: string): Promise<Record<string, string>> {
  const a = await h.get(via, '/cluster/members');
  expect(a.status, JSON.stringify(a.body)).toBe(200);
  return Object.fromEntries((a.body.members as { id: string; role: string }[]).map((m) => [m.id, m.role]));
}

function addBody(h: Cluster, id: string): { id: string; host: string; apiPort: number; peerPort: number } {
  const m = h.member(id);
  return { id: m.id, host: m.host, apiPort: m.apiPort, peerPort: m.peerPort };
}

describe('coordinator membership (real processes)', () => {
  test('leadership transfer (POST /cluster/leader/transfer) moves the leader, through the leader or a follower', async () => {
    const h = await clusters.create({ name: 'transfer' });
    await h.startVoters();
    const first = await h.waitForLeader({ all: true });
    const [a, b] = h.voters.filter((id) => id !== first.id) as [string, string];

    // Asked of the follower that is not the target: it reaches the leader itself.
    const viaFollower = await h.post(b, '/cluster/leader/transfer', { to: a }, 10_000);
    expect(viaFollower.status, JSON.stringify(viaFollower.body)).toBe(200);
    expect(viaFollower.body).toEqual({ leader: a });
    const second = await h.waitForLeader();
    expect(second.id).toBe(a);
    expect(second.term).toBeGreaterThan(first.term);

    // Asked of the leader.
    const viaLeader = await h.post(a, '/cluster/leader/transfer', { to: b }, 10_000);
    expect(viaLeader.status, JSON.stringify(viaLeader.body)).toBe(200);
    const third = await h.waitForLeader();
    expect(third.id).toBe(b);

    // A transfer to the replica that already leads is done; to a replica that is not a member is refused.
    expect((await h.post(first.id, '/cluster/leader/transfer', { to: b }, 10_000)).status).toBe(200);
    const unknown = await h.post(first.id, '/cluster/leader/transfer', { to: 'c9' }, 10_000);
    expect(unknown.status, JSON.stringify(unknown.body)).toBeGreaterThanOrEqual(400);
    expect(unknown.status).toBeLessThan(500);
    expect((await h.waitForLeader()).id).toBe(b);

    // Writes go on through every replica.
    for (const via of h.voters) expect((await h.register(via, `after-transfer-${via}`)).status).toBe(200);
    await expectNothingLost(h, h.voters.map((v) => `after-transfer-${v}`));
    expect(h.leaderConflicts()).toEqual([]);
  });

  test('a wiped replica rejoins through a snapshot: removed, wiped, started with --join, added back as a learner and promoted', async () => {
    const h = await clusters.create({ name: 'wipe', raft: { snapshotEveryEntries: 20 } });
    await h.startVoters();
    const leader = await h.waitForLeader();
    const victim = h.voters.find((id) => id !== leader.id)!;
    const writer = new Writer(h, { prefix: 'w', intervalMs: 5 }).start();
    try {
      await writer.waitForAcks(60);

      // 1. Remove it (asked of a replica other than the leader: forwarded).
      const via = h.voters.find((id) => id !== leader.id && id !== victim)!;
      const removed = await h.request(via, 'DELETE', `/cluster/members/${victim}`, undefined, 15_000);
      expect(removed.status, JSON.stringify(removed.body)).toBe(200);
      expect(removed.body).toEqual({ removed: victim });
      h.voters = h.voters.filter((id) => id !== victim);
      await waitFor('the leader to list two members', async () => {
        const m = await membersSeenBy(h, leader.id);
        return Object.keys(m).length === 2 && !(victim in m) ? true : undefined;
      });

      // 2. Stop and wipe it; the two others go on committing (and compacting) without it.
      await h.kill(victim, 'SIGTERM');
      await h.wipe(victim);
      await writer.waitForAcks(60);

      // 3. Start it empty as a joining replica, and add it back.
      await h.start(victim, { join: true });
      const before = await h.health(victim);
      expect(before).toMatchObject({ role: 'follower', leader: null, applied_index: 0 });
      const added = await h.post(via, '/cluster/members', addBody(h, victim), 30_000);
      expect(added.status, JSON.stringify(added.body)).toBe(200);
      h.voters = [...h.voters, victim].sort();
      await writer.waitForAcks(30);
    } finally {
      await writer.stop();
    }
    expect(h.snapshotsInstalled.get(victim) ?? 0, 'the wiped replica was filled by a snapshot').toBeGreaterThanOrEqual(1);
    const roles = await membersSeenBy(h, (await h.waitForLeader()).id);
    expect(Object.keys(roles).sort()).toEqual([...h.voters].sort());
    expect(roles[victim]).toMatch(/^(follower|leader)$/);
    await expectNothingLost(h, writer.ackedIds());

    // It counts as a voter again: with the leader killed, it and the other one elect a new leader and commit.
    const l = await h.waitForLeader();
    await h.kill(l.id, 'SIGKILL');
    const next = await h.waitForLeader({ exclude: [l.id] });
    const survivors = h.running(h.voters);
    expect(survivors).toContain(victim);
    for (const s of survivors) expect((await h.register(s, `after-rejoin-${s}`, 10_000)).status).toBe(200);
    await expectNothingLost(h, [...writer.ackedIds(), ...survivors.map((s) => `after-rejoin-${s}`)], survivors);
    expect(next.id).not.toBe(l.id);
    expect(h.leaderConflicts()).toEqual([]);
  });

  test('replacing a dead replica: a fourth joins as a learner, is promoted, the dead one is removed; the new set keeps working', async () => {
    const h = await clusters.create({ name: 'replace', spares: 1 });
    await h.startVoters();
    const leader = await h.waitForLeader();
    const dead = h.voters.find((id) => id !== leader.id)!;
    const writer = new Writer(h, { prefix: 'x', intervalMs: 10 }).start();
    try {
      await writer.waitForAcks(30);
      await h.kill(dead, 'SIGKILL');
      await writer.waitForAcks(20);

      // c4 runs, from a file that lists the set it will belong to (not the bootstrap set), but is
      // nobody's member yet: it knows no leader and cannot take a write.
      await h.writeJoinFile([...h.voters.filter((id) => id !== dead), 'c4']);
      await h.start('c4', { join: true });
      const alone = await h.health('c4');
      expect(alone).toMatchObject({ role: 'follower', leader: null });
      const refused = await h.register('c4', 'not-yet', 3_000);
      expect(refused.status).toBe(503);
      expect(Object.keys(await membersSeenBy(h, leader.id)).sort()).toEqual(['c1', 'c2', 'c3']);

      // Added (learner, caught up, promoted) through a live follower.
      const via = h.voters.find((id) => id !== leader.id && id !== dead)!;
      const added = await h.post(via, '/cluster/members', addBody(h, 'c4'), 30_000);
      expect(added.status, JSON.stringify(added.body)).toBe(200);
      expect(added.body).toMatchObject({ member: { id: 'c4' } });
      h.voters = [...h.voters, 'c4'];
      const four = await membersSeenBy(h, leader.id);
      expect(Object.keys(four).sort()).toEqual(['c1', 'c2', 'c3', 'c4']);
      expect(four['c4']).toBe('follower');

      // The dead one removed, asked of the newcomer.
      const removed = await h.request('c4', 'DELETE', `/cluster/members/${dead}`, undefined, 15_000);
      expect(removed.status, JSON.stringify(removed.body)).toBe(200);
      h.voters = h.voters.filter((id) => id !== dead);
      await writer.waitForAcks(30);
    } finally {
      await writer.stop();
    }
    // Filled from a snapshot, not by replaying the log over a table built from its own file (which lists c4, not the dead one).
    expect(h.snapshotsInstalled.get('c4') ?? 0).toBeGreaterThanOrEqual(1);
    const three = await membersSeenBy(h, 'c4');
    expect(Object.keys(three).sort()).toEqual([...h.voters].sort());
    await expectNothingLost(h, writer.ackedIds());

    // Two of the new three are a majority: kill the leader, the other two elect one and commit.
    const l = await h.waitForLeader();
    await h.kill(l.id, 'SIGKILL');
    await h.waitForLeader({ exclude: [l.id] });
    const survivors = h.running(h.voters);
    expect(survivors.length).toBe(2);
    for (const s of survivors) expect((await h.register(s, `after-replace-${s}`, 10_000)).status).toBe(200);
    await expectNothingLost(h, [...writer.ackedIds(), ...survivors.map((s) => `after-replace-${s}`)], survivors);
    expect(h.leaderConflicts()).toEqual([]);
  });
});
