/**
 * A table older than a node's copy (one restored from a snapshot taken before
 * the shard last moved): the node neither deletes the copy nor takes the
 * older record over it, serves nothing from it meanwhile, reports it with
 * its epoch, and serves it again once the table is newer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RoutingState } from '../../src/coordinator/routing/index.js';
import { bytes, TestCluster, text, waitFor } from './harness.js';

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.close();
});

const withEpoch = (s: RoutingState, shard: number, epoch: number, primary: string, replicas: string[]): RoutingState => ({
  ...s,
  shards: s.shards.map((r) => (r.id === shard ? { ...r, epoch, primary, replicas, inSync: [primary, ...replicas].sort(), state: 'active' as const } : r)),
});

describe('a table older than the copy', () => {
  it('a copy the older table does not list, or lists at an older epoch, is kept unserved, reported, and served again once the table catches up', async () => {
    cluster = new TestCluster(2);
    const c = cluster;
    await c.start('n1', 'n2');
    c.coordinator.assign(0, 'n1', []);
    await c.settled(0);
    const old = c.coordinator.state; // shard 0 on n1 alone, epoch 1
    // After the "snapshot": the shard moves to n2 and is written there.
    c.coordinator.move(0, 'n1', ['n2']);
    await waitFor('n2 in sync', () => c.coordinator.shard(0).inSync.includes('n2'));
    c.coordinator.promote(0, 'n2');
    c.coordinator.move(0, 'n2', []);
    await c.settled(0);
    const newer = c.coordinator.state;
    const epoch = newer.shards[0]!.epoch;
    const keys = c.keysIn(0, 5);
    for (const k of keys) await c.node('n2').put(k, bytes(`v-${k}`));
    await c.node('n1').stop();

    // Restarted under the older table, which does not list n2 for shard 0.
    c.coordinator.state = old;
    const n2 = await c.restart('n2');
    await waitFor('n2 holds a lease from the old table', () => n2.info().lease.valid);
    await waitFor('n2 reported its copy', () => (c.coordinator.lastRenewal.get('n2')?.holdings ?? []).some((h) => h.shard === 0));
    expect(n2.info().shards.find((s) => s.id === 0)).toMatchObject({ epoch, role: 'fenced', keys: 5 });
    expect(c.coordinator.lastRenewal.get('n2')!.holdings).toEqual([{ shard: 0, epoch, lastSeq: 5, primary: 'n2', inSync: true }]);
    await expect(n2.get(keys[0]!)).rejects.toThrow();

    // Listed, but at an epoch older than the copy's: still not taken.
    c.coordinator.state = withEpoch(old, 0, 1, 'n2', []);
    const renewals = c.coordinator.lastRenewal.get('n2');
    await waitFor('a renewal under the second old table', () => c.coordinator.lastRenewal.get('n2') !== renewals);
    await waitFor('another renewal', () => c.coordinator.lastRenewal.get('n2') !== renewals);
    expect(n2.info().shards.find((s) => s.id === 0)).toMatchObject({ epoch, keys: 5 });

    // The table takes the newer placement: served again, nothing lost.
    c.coordinator.state = withEpoch(newer, 0, epoch + 1, 'n2', []);
    await waitFor('n2 primary again', () => n2.info().shards.some((s) => s.id === 0 && s.role === 'primary' && s.epoch === epoch + 1));
    for (const k of keys) expect(text(await n2.get(k))).toBe(`v-${k}`);
  });

  it('a copy the table no longer lists at a newer epoch is deleted as before', async () => {
    cluster = new TestCluster(2);
    const c = cluster;
    await c.start('n1', 'n2');
    c.coordinator.assign(0, 'n1', ['n2']);
    await c.settled(0);
    c.coordinator.move(0, 'n1', []);
    await waitFor('n2 dropped its copy', () => !c.node('n2').info().shards.some((s) => s.id === 0));
  });
});
