/**
 * A whole data node (real LevelDB, in process) whose clock and timers are a
 * SimTime: its lease renewals, recovery-session sweeper and uptime move only
 * when the test advances simulated time, so half a minute of idleness takes
 * no wall time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimTime } from '../../src/common/sim-time.js';
import { bytes, TestCluster, text, waitFor } from './harness.js';

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.close();
});

/** Simulated time forward in `stepMs` steps, letting real I/O (LevelDB, promise chains) catch up after each. */
async function advance(time: SimTime, ms: number, stepMs = 10): Promise<void> {
  const until = time.nowMs() + ms;
  while (time.nowMs() < until) {
    time.advanceTo(Math.min(until, time.nowMs() + stepMs));
    await new Promise((r) => setImmediate(r));
  }
}

describe('data node on simulated time', () => {
  it('renews its lease on simulated time and ends a recovery session left idle past recoveryIdleMs, not one in use', async () => {
    cluster = new TestCluster(1);
    const c = cluster;
    const time = new SimTime(0);
    c.create('n1', {}, { clock: time, timers: time });
    await c.start('n1');
    const n1 = c.node('n1');
    c.coordinator.assign(0, 'n1', []);
    // The renewal that brings the assignment is sent on simulated time; storing the copy's metadata is real I/O.
    await advance(time, 200);
    await waitFor('n1 primary of shard 0', () => n1.info().shards[0]?.role === 'primary');
    await n1.put(c.keyIn(0), bytes('v'));

    // A replica that begins a recovery and then goes quiet (it is registered, but never runs).
    await c.coordinator.register({ id: 'n2', address: 'n2.test:1', capacity: 16, version: 'test', identity: 'n2-identity' });
    c.coordinator.move(0, 'n1', ['n2']);
    await advance(time, 200);
    const epoch = c.coordinator.shard(0).epoch;
    await waitFor('n1 at the new epoch', () => n1.info().shards[0]?.epoch === epoch);

    const inUse = await n1.beginRecovery({ shard: 0, epoch, replica: 'n2' });
    // Used every 20 simulated seconds: never idle for recoveryIdleMs (30 s), so the sweeper (every 5 s) keeps it.
    for (let i = 0; i < 3; i++) {
      await advance(time, 20_000);
      await expect(n1.recoveryPage({ recoveryId: inUse.recoveryId, limit: 10 })).resolves.toMatchObject({ done: expect.any(Boolean) });
    }
    // The lease held the whole time on renewals every 50 simulated ms, so the node still serves.
    expect(n1.health().lease.valid).toBe(true);
    expect(text(await n1.get(c.keyIn(0)))).toBe('v');

    // Left alone past recoveryIdleMs and one sweep: the session is gone, and the replica is told to start over.
    await advance(time, 30_000 + 5_000 + 100);
    await expect(n1.recoveryPage({ recoveryId: inUse.recoveryId, limit: 10 })).rejects.toThrow(/no recovery .*idle too long/);
    expect(n1.info().uptimeMs).toBeGreaterThanOrEqual(60_000 + 35_000);
  });
});
