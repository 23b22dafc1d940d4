import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Harness } from './harness.js';

// Defaults but for the lease: twice the default, so that a suspicion is confirmed well before the lease runs out.
const SETTINGS = { health: { probeIntervalMs: 250, probeTimeoutMs: 200, failureThreshold: 3, backoffMaxMs: 2_000, leaseMs: 2_000 } };

let harness: Harness | undefined;

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});

afterEach(async () => {
  // A probe of a hung node still in flight ends at its (fake) timeout: let the clock run while closing.
  const closed = harness?.close();
  for (let i = 0; i < 100 && harness !== undefined; i++) if (await Promise.race([closed?.then(() => true), vi.advanceTimersByTimeAsync(10).then(() => false)])) break;
  await closed;
  harness = undefined;
  vi.useRealTimers();
});

async function start(options: Parameters<typeof Harness.start>[0] = {}): Promise<Harness> {
  harness = await Harness.start({ settings: SETTINGS, ...options });
  return harness;
}

/** Every node answered once and is healthy in the table, and the leader's first lease period is over. */
async function settled(h: Harness): Promise<void> {
  await h.advanceUntil(() => h.nodeIds.every((id) => h.statusOf(id) === 'healthy'), 'every node healthy');
  await h.advance(SETTINGS.health.leaseMs);
}

describe('health monitor: unknown nodes', () => {
  it('marks an unknown node healthy on its first answered probe, with expectedStatus', async () => {
    const h = await start();
    await h.advanceUntil(() => h.statusOf('n1') === 'healthy', 'n1 healthy');
    const [cmd] = h.statusCommands('n1', 'healthy');
    expect(cmd).toMatchObject({ status: 'healthy', expectedStatus: 'unknown', reason: 'first probe answered' });
    expect(h.leaderNodes.probesOf('n1')).toBeLessThanOrEqual(2);
    expect(h.logged('node marked healthy').map((r) => r.fields['node'])).toContain('n1');
    expect(h.control.healthOf('n1')).toMatchObject({ status: 'healthy', consecutiveFailures: 0, path: 'ok' });
  });

  it('followers run no probes of their own accord', async () => {
    const h = await start();
    await settled(h);
    for (const f of h.followers.values()) expect(f.nodes.probes).toEqual([]);
    expect(h.followers.get('c2')!.control.healthOf('n1')).toBeNull();
  });
});

describe('health monitor: a restored cluster', () => {
  it('declares nothing while the cluster recovers from a restore; once the silent node was waited for, it is handled as usual', async () => {
    const h = await start();
    await settled(h);
    h.leader.state = { ...h.leader.state, restoring: { snapshotIndex: 3, snapshotHash: 'h', sinceMs: 0 } };
    h.hang('n2');
    await h.advance(5 * SETTINGS.health.leaseMs);
    expect(h.statusCommands('n2', 'unhealthy')).toEqual([]);
    expect(h.statusOf('n2')).toBe('healthy');
    // The leader stops waiting for n2's report (10 leases) and ends the window; then n2 is declared as any silent node.
    await h.advanceUntil(() => h.leader.state.restoring === undefined, 'the restore window ended');
    expect(h.leader.state.events.items.at(-1)).toMatchObject({ kind: 'cluster-restored', reason: expect.stringMatching(/nodes n2 did not report/) });
    await h.advanceUntil(() => h.statusOf('n2') === 'unhealthy', 'n2 declared unhealthy once the window ended');
  });
});

describe('health monitor: a node that stops', () => {
  it('suspects it after the threshold, asks the followers, and declares it unhealthy only once its lease ran out', async () => {
    const h = await start();
    await settled(h);
    const stoppedAt = Date.now();
    h.hang('n2');
    const leaseEndsAt = h.renewedAtMs.get('n2')! + SETTINGS.health.leaseMs;
    await h.advanceUntil(() => h.control.healthOf('n2')?.status === 'suspect', 'n2 suspect');
    expect(h.statusCommands('n2', 'unhealthy')).toEqual([]);
    const suspect = h.control.healthOf('n2')!;
    expect(suspect.consecutiveFailures).toBe(3);
    expect(h.logged('node suspect').map((r) => r.fields['node'])).toEqual(['n2']);

    await h.advanceUntil(() => h.confirmCalls.length >= 2, 'confirmation asked');
    expect(new Set(h.confirmCalls.map((c) => c.replica))).toEqual(new Set(['c2', 'c3']));
    expect(h.confirmCalls[0]!.atMs).toBeLessThan(leaseEndsAt);
    await h.advanceUntil(() => h.logged('suspicion confirmed').length > 0, 'a round confirming the suspicion');
    expect(h.statusOf('n2')).toBe('healthy');
    expect(h.control.healthOf('n2')!.reason).toMatch(/saw n2 fail; waiting for its lease to run out$/);

    await h.advanceUntil(() => h.statusOf('n2') === 'unhealthy', 'n2 unhealthy');
    const [decision] = h.statusCommands('n2', 'unhealthy');
    expect(decision).toMatchObject({ status: 'unhealthy', confirmedBy: ['c1', 'c2', 'c3'], voters: 3, expectedStatus: 'healthy' });
    expect(decision!.atMs).toBeGreaterThanOrEqual(leaseEndsAt);
    // interval × threshold + timeout + lease, and a margin of two probe intervals.
    expect(decision!.atMs - stoppedAt).toBeLessThanOrEqual(250 * 3 + 200 + 2_000 + 500);
    expect(h.leader.state.nodes['n2']!.statusReason).toMatch(/^\d+ consecutive probes failed \(last: .*\); confirmed by c1, c2, c3 of 3 replicas$/);
    expect(h.logged('node declared unhealthy')).toHaveLength(1);
    expect(h.control.healthOf('n2')!.status).toBe('unhealthy');
    // The others were never in doubt.
    expect(h.statusCommands('n1', 'unhealthy')).toEqual([]);
    expect(h.statusCommands('n3', 'unhealthy')).toEqual([]);
  });

  it('decides with a majority even when one follower does not answer, naming only who confirmed', async () => {
    const h = await start();
    await settled(h);
    h.unreachableReplicas.add('c3');
    h.hang('n2');
    await h.advanceUntil(() => h.statusOf('n2') === 'unhealthy', 'n2 unhealthy');
    expect(h.statusCommands('n2', 'unhealthy')[0]).toMatchObject({ confirmedBy: ['c1', 'c2'], voters: 3 });
  });

  it('without a majority (both followers silent) it decides nothing and says why', async () => {
    const h = await start();
    await settled(h);
    h.unreachableReplicas.add('c2');
    h.unreachableReplicas.add('c3');
    h.hang('n2');
    await h.advance(6_000);
    expect(h.statusCommands('n2', 'unhealthy')).toEqual([]);
    expect(h.control.healthOf('n2')).toMatchObject({ status: 'suspect' });
    expect(h.control.healthOf('n2')!.reason).toBe('only 1 of 3 replicas (c1) saw n2 fail, 2 needed; no answer from c2, c3');
    expect(h.control.healthReasons()).toContain('only 1 of 3 replicas (c1) saw n2 fail, 2 needed; no answer from c2, c3');
    // Logged once, however many rounds.
    expect(h.logged('confirmation round without a majority')).toHaveLength(1);
  });

  it('a follower that reaches the node refutes: no decision, the node stays healthy, the leader reports its degraded path', async () => {
    const h = await start();
    await settled(h);
    const cutAt = Date.now();
    // Cut both ways between the leader and n2: no probe gets through, no renewal reaches the leader.
    h.leaderNodes.set('n2', 'hung');
    h.alive.delete('n2');
    await h.advance(8_000);
    expect(h.statusCommands('n2', 'unhealthy')).toEqual([]);
    expect(h.statusOf('n2')).toBe('healthy');
    expect(h.control.healthOf('n2')).toMatchObject({ status: 'suspect', path: 'degraded', reason: 'leader c1 cannot reach n2; c2, c3 can' });
    expect(h.control.healthReasons()).toEqual(['leader c1 cannot reach n2; c2, c3 can']);
    expect(h.logged('suspicion refuted: degraded path')).toHaveLength(1);
    // Asked again while suspect, but at most once per probe interval.
    const rounds = h.confirmCalls.filter((c) => c.replica === 'c2').length;
    expect(rounds).toBeGreaterThan(1);
    expect(rounds).toBeLessThanOrEqual((Date.now() - cutAt) / SETTINGS.health.probeIntervalMs + 1);
    // The path heals: the view is back to ok.
    h.leaderNodes.set('n2', 'up');
    h.alive.add('n2');
    await h.advanceUntil(() => h.control.healthOf('n2')?.path === 'ok', 'path ok again');
    expect(h.control.healthOf('n2')!.status).toBe('healthy');
    expect(h.control.healthReasons()).toEqual([]);
  });

  it('twenty pauses shorter than the threshold: no suspicion, no confirmation, no decision', async () => {
    const h = await start();
    await settled(h);
    let worst = 0;
    for (let pause = 0; pause < 20; pause++) {
      // Long enough for the leader to miss its renewals (interval + timeout) and fail a probe or two.
      h.hang('n2');
      await h.advance(700);
      worst = Math.max(worst, h.control.healthOf('n2')?.consecutiveFailures ?? 0);
      h.resume('n2');
      await h.advanceUntil(() => h.control.healthOf('n2')?.consecutiveFailures === 0, 'n2 answering again');
      await h.advance(1_000);
    }
    // The pauses did fail probes (the test would prove nothing otherwise), never threshold many in a row.
    expect(worst).toBeGreaterThanOrEqual(1);
    expect(worst).toBeLessThan(3);
    expect(h.logged('node suspect')).toEqual([]);
    expect(h.confirmCalls).toEqual([]);
    expect(h.statusCommands('n2', 'unhealthy')).toEqual([]);
  });
});

describe('health monitor: storm guard', () => {
  it('two of three nodes stopping at once: no decision, both stay suspect, and the reason is exposed', async () => {
    const h = await start();
    await settled(h);
    h.hang('n1');
    h.hang('n2');
    await h.advance(8_000);
    expect(h.statusCommands('n1', 'unhealthy')).toEqual([]);
    expect(h.statusCommands('n2', 'unhealthy')).toEqual([]);
    const reason = 'storm guard: 2 of 3 nodes failing, deciding would leave 1 of 3 healthy (< 50%)';
    expect(h.control.healthOf('n1')).toMatchObject({ status: 'suspect', reason });
    expect(h.control.healthOf('n2')).toMatchObject({ status: 'suspect', reason });
    expect(h.control.healthReasons()).toEqual([reason]);
    expect(h.logged('failure decision held back by the storm guard').map((r) => r.fields['node']).sort()).toEqual(['n1', 'n2']);
    // One returns: the other is decided.
    h.resume('n1');
    await h.advanceUntil(() => h.statusOf('n2') === 'unhealthy', 'n2 unhealthy once n1 is back');
    expect(h.statusOf('n1')).toBe('healthy');
  });
});

describe('health monitor: a new leader', () => {
  it('probes nothing as a follower, then decides nothing in its first lease period', async () => {
    const h = await start({ leaderStartsAsFollower: true });
    h.hang('n2');
    await h.advance(3_000);
    expect(h.leaderNodes.probes).toEqual([]);
    const electedAt = Date.now();
    h.leader.becomeLeader();
    await h.advanceUntil(() => /^new leader: no failure decision in its first lease period/.test(h.control.healthOf('n2')?.reason ?? ''), 'n2 held back as suspect');
    expect(h.control.healthOf('n2')!.status).toBe('suspect');
    expect(Date.now()).toBeLessThan(electedAt + SETTINGS.health.leaseMs);
    await h.advanceUntil(() => h.statusOf('n2') === 'unhealthy', 'n2 unhealthy');
    const [decision] = h.statusCommands('n2', 'unhealthy');
    expect(decision!.atMs).toBeGreaterThanOrEqual(electedAt + SETTINGS.health.leaseMs);
    expect(decision).toMatchObject({ expectedStatus: 'unknown', confirmedBy: ['c1', 'c2', 'c3'] });
  });

  it('stops probing when it loses leadership and forgets what it saw', async () => {
    const h = await start();
    await settled(h);
    h.leader.followerOf('c2');
    const before = h.leaderNodes.probes.length;
    await h.advance(2_000);
    // At most the probes that were in flight.
    expect(h.leaderNodes.probes.length - before).toBeLessThanOrEqual(h.nodeIds.length);
    expect(h.control.healthOf('n1')).toBeNull();
  });
});

describe('health monitor: the way back', () => {
  it('an unhealthy node that answers is marked healthy only once it holds a valid lease; probed with backoff meanwhile', async () => {
    const h = await start();
    await settled(h);
    h.hang('n2');
    await h.advanceUntil(() => h.statusOf('n2') === 'unhealthy', 'n2 unhealthy');
    const downSince = Date.now();
    await h.advance(10_000);
    // Backoff: doubling from 250 ms up to 2 s; at the interval it would have been ~22 probes.
    expect(h.leaderNodes.probesOf('n2', downSince)).toBeLessThanOrEqual(9);
    h.leaderNodes.leaseValid.set('n2', false);
    h.resume('n2');
    await h.advanceUntil(() => h.control.healthOf('n2')?.consecutiveFailures === 0, 'n2 answers');
    await h.advance(1_000);
    expect(h.statusOf('n2')).toBe('unhealthy');
    expect(h.control.healthOf('n2')!.reason).toBe('n2 answers probes again but holds no valid lease yet; marked healthy once it renews');
    h.leaderNodes.leaseValid.set('n2', true);
    await h.advanceUntil(() => h.statusOf('n2') === 'healthy', 'n2 healthy again');
    expect(h.statusCommands('n2', 'healthy').at(-1)).toMatchObject({ expectedStatus: 'unhealthy', reason: 'probe answered and the node holds a valid lease again' });
    expect(h.control.healthOf('n2')).toMatchObject({ status: 'healthy', consecutiveFailures: 0 });
  });
});

describe('health monitor: settings', () => {
  it('reads them from the table every round: a changed threshold applies at run time', async () => {
    const h = await start();
    await settled(h);
    await h.updateSettings({ health: { failureThreshold: 40 } });
    h.hang('n2');
    await h.advance(5_000);
    expect(h.control.healthOf('n2')!.consecutiveFailures).toBeGreaterThan(3);
    expect(h.control.healthOf('n2')!.status).toBe('healthy');
    expect(h.confirmCalls).toEqual([]);
    await h.updateSettings({ health: { failureThreshold: 2 } });
    await h.advanceUntil(() => h.statusOf('n2') === 'unhealthy', 'n2 unhealthy with the lower threshold');
  });

  it('a changed probe interval changes how often nodes are probed', async () => {
    const h = await start();
    await settled(h);
    // n1 answers probes but renews nothing: only probes tell the leader it lives.
    h.alive.delete('n1');
    const t0 = Date.now();
    await h.advance(5_000);
    const atDefault = h.leaderNodes.probesOf('n1', t0);
    await h.updateSettings({ health: { probeIntervalMs: 1_000, probeTimeoutMs: 200 } });
    await h.advance(500);
    const t1 = Date.now();
    await h.advance(5_000);
    const slower = h.leaderNodes.probesOf('n1', t1);
    expect(atDefault).toBeGreaterThanOrEqual(18);
    expect(slower).toBeLessThanOrEqual(6);
  });
});

describe('health monitor: the leader\'s load', () => {
  it('a node renewing its lease is not probed; once its renewals stop it is probed at once and decided within the bound', async () => {
    const h = await start();
    await settled(h);
    const t0 = Date.now();
    await h.advance(5_000);
    // The harness renews every 300 ms, within probe interval + timeout (450 ms): no probe is needed.
    expect(h.leaderNodes.probesOf('n1', t0)).toBe(0);
    expect(h.control.healthOf('n1')).toMatchObject({ status: 'healthy', consecutiveFailures: 0 });
    expect(h.control.healthOf('n1')!.lastSuccessfulProbeAgoMs).toBeLessThanOrEqual(450);
    const stoppedAt = Date.now();
    h.hang('n1');
    const lastRenewal = h.renewedAtMs.get('n1')!;
    await h.advanceUntil(() => h.leaderNodes.probesOf('n1', stoppedAt) > 0, 'n1 probed once silent');
    // Probed the moment its last renewal is older than interval + timeout.
    expect(h.leaderNodes.probes.find((p) => p.node === 'n1' && p.atMs >= stoppedAt)!.atMs - lastRenewal).toBeLessThanOrEqual(450 + 30);
    await h.advanceUntil(() => h.statusOf('n1') === 'unhealthy', 'n1 unhealthy');
    // interval × threshold + timeout + lease, and the same margin as for a probed node.
    expect(h.statusCommands('n1', 'unhealthy')[0]!.atMs - stoppedAt).toBeLessThanOrEqual(250 * 3 + 200 + 2_000 + 500);
  });

  it('many nodes arriving at once get their first probes spread over one interval, not in one burst', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `n${i + 1}`);
    const h = await start({ nodes: ids });
    await h.advanceUntil(() => ids.every((id) => h.leaderNodes.probesOf(id) > 0), 'every node probed once');
    const first = ids.map((id) => h.leaderNodes.probes.find((p) => p.node === id)!.atMs);
    const start0 = Math.min(...first);
    expect(Math.max(...first) - start0).toBeGreaterThanOrEqual(200);
    // No 10 ms slot holds more than a fifth of them.
    const perSlot = new Map<number, number>();
    for (const t of first) perSlot.set(Math.floor((t - start0) / 10), (perSlot.get(Math.floor((t - start0) / 10)) ?? 0) + 1);
    expect(Math.max(...perSlot.values())).toBeLessThanOrEqual(10);
  });

  it('a registered node that never answered backs off once suspect, instead of being probed every interval', async () => {
    const h = await start({ nodes: ['n1', 'n2', 'n3', 'n4'] });
    h.hang('n4');
    await h.advanceUntil(() => ['n1', 'n2', 'n3'].every((id) => h.statusOf(id) === 'healthy'), 'the others healthy');
    const t0 = Date.now();
    await h.advance(10_000);
    // At the interval it would be ~22 probes (each failing at the 200 ms timeout: one per 450 ms); doubling to 2 s, at most 9.
    expect(h.leaderNodes.probesOf('n4', t0)).toBeLessThanOrEqual(9);
    expect(h.statusOf('n4')).not.toBe('healthy');
  });
});
