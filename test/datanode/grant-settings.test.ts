/**
 * Settings a running node takes from its lease grants: the replication
 * acknowledgement timeout (the cluster's `replication.ackTimeoutMs`) changes
 * how long a primary waits for a silent replica before writing on without it,
 * from the next grant on, and the node reports the settings version it runs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { bytes, TestCluster, waitFor } from './harness.js';

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.close();
});

describe('settings from the grant', () => {
  it('a change of the replication ack timeout takes effect on a running primary with its next renewal', async () => {
    // The node's own option is long: only the grant can make it short.
    cluster = new TestCluster(1, { replicaAckTimeoutMs: 30_000 });
    const c = cluster;
    c.coordinator.grantSettings = { configVersion: 1, replicaAckTimeoutMs: 3_000 };
    await c.start('n1', 'n2');
    c.coordinator.assign(0, 'n1', ['n2']);
    await c.settled(0);
    await c.node('n1').put(c.keyIn(0, 'a'), bytes('1'));

    // Under version 1 (3 s), a write with a silent replica waits that long, then goes on without it.
    const silent = async (key: string): Promise<number> => {
      c.link('n2', 'hang');
      const started = performance.now();
      await c.node('n1').put(c.keyIn(0, key), bytes(key));
      const tookMs = performance.now() - started;
      c.link('n2', 'ok');
      await waitFor('n2 back in sync', () => c.coordinator.shard(0).inSync.includes('n2'), 15_000);
      await c.settled(0);
      return tookMs;
    };
    expect(await silent('b')).toBeGreaterThanOrEqual(2_900);
    expect(c.coordinator.setInSyncCalls.filter((r) => !r.inSync).map((r) => r.node)).toEqual(['n2']);

    // Version 2 (200 ms) reaches the running node with a renewal; it says it runs it, and waits that long.
    c.coordinator.grantSettings = { configVersion: 2, replicaAckTimeoutMs: 200 };
    await waitFor('n1 runs settings version 2', () => c.coordinator.lastRenewal.get('n1')?.configVersion === 2);
    expect(await silent('c')).toBeLessThan(2_000);
    expect(c.coordinator.setInSyncCalls.filter((r) => !r.inSync).map((r) => r.node)).toEqual(['n2', 'n2']);
  }, 40_000);
});
