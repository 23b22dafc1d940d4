import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ShardStore } from '../../src/datanode/store/shard-store.js';
import { bytes, TestCluster, waitFor } from './harness.js';

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.close();
});

/** Every entry of one shard copy, read from a stopped node's LevelDB. */
async function contents(dir: string, shard: number): Promise<Map<string, string>> {
  const store = await ShardStore.open(path.join(dir, 'db'));
  const out = new Map<string, string>();
  try {
    const snapshot = store.snapshot();
    const cursor = store.entries(shard, snapshot);
    for (let i = 0; i < 100_000 && !cursor.done; i++) for (const e of await cursor.page(500, 1 << 20)) out.set(e.key, Buffer.from(e.value).toString());
    await cursor.close();
    await snapshot.close();
  } finally {
    await store.close();
  }
  return out;
}

describe('recovery', () => {
  it('copies a shard while writes run and ends with identical copies and the replica in sync', async () => {
    cluster = new TestCluster(2, { recoveryPageLimit: 25 });
    const c = cluster;
    await c.start('n1', 'n2');
    c.coordinator.assign(0, 'n1', []);
    await c.settled(0);
    const keys = c.keysIn(0, 400);
    const fresh = c.keysIn(0, 400, 'new');
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => c.node('n1').put(k, bytes(`first-${k}`))));

    // Overwrites, deletes and new keys run through the whole copy.
    let stop = false;
    let round = 0;
    const writer = (async () => {
      for (; !stop && round < 10_000; round++) {
        const k = keys[(round * 7) % keys.length]!;
        if (round % 5 === 0) await c.node('n1').delete(k);
        else await c.node('n1').put(round % 3 === 0 ? fresh[round % fresh.length]! : k, bytes(`r${round}`));
      }
    })();
    const progress: number[] = [];
    const unsubscribe = c.node('n2').onChange(() => {
      const r = c.node('n2').info().shards.find((s) => s.id === 0)?.recovery;
      if (r) progress.push(r.copiedKeys);
    });
    // Each page waits for a few more writes, so the copy and the live stream interleave.
    c.peers.beforePage = async () => {
      const target = round + 3;
      await waitFor('writes between pages', () => stop || round >= target);
    };
    c.coordinator.move(0, 'n1', ['n2']);
    await waitFor('n2 in sync', () => c.coordinator.shard(0).inSync.includes('n2'), 20_000);
    const extra = round + 20;
    await waitFor('writes after the join', () => round >= extra);
    stop = true;
    await writer;
    unsubscribe();

    expect(progress.some((n) => n > 0)).toBe(true);
    // Writes did arrive through the live stream while the copy ran.
    const begun = c.nodes.get('n1')!.logger.records.find((r) => r.msg === 'recovery begun')!;
    const done = c.nodes.get('n2')!.logger.records.find((r) => r.msg === 'recovery done: copy in sync')!;
    expect(done.fields.seq as number).toBeGreaterThan(begun.fields.snapshotSeq as number);
    const seq = c.node('n1').info().shards.find((s) => s.id === 0)!.seq;
    await waitFor('replica caught up', () => c.node('n2').info().shards.find((s) => s.id === 0)?.seq === seq);
    expect(c.node('n2').info().shards.find((s) => s.id === 0)).toMatchObject({ role: 'replica', recovery: null });
    const primaryKeys = c.node('n1').info().shards.find((s) => s.id === 0)!.keys;
    expect(c.node('n2').info().shards.find((s) => s.id === 0)!.keys).toBe(primaryKeys);
    await c.node('n1').stop();
    await c.node('n2').stop();
    const [a, b] = await Promise.all([contents(c.nodes.get('n1')!.dir, 0), contents(c.nodes.get('n2')!.dir, 0)]);
    expect(a.size).toBe(primaryKeys);
    expect(b).toEqual(a);
  }, 30_000);

  it('re-copies a replica that was taken out of sync once it is reachable again', async () => {
    cluster = new TestCluster(2);
    const c = cluster;
    await c.start('n1', 'n2');
    c.coordinator.assign(0, 'n1', ['n2']);
    await c.settled(0);
    const keys = c.keysIn(0, 20);
    c.link('n2', 'hang');
    for (const k of keys) await c.node('n1').put(k, bytes(k));
    expect(c.coordinator.shard(0).inSync).toEqual(['n1']);
    c.link('n2', 'ok');
    await waitFor('n2 back in sync', () => c.coordinator.shard(0).inSync.includes('n2'));
    await waitFor('n2 has every key', () => c.node('n2').info().shards.find((s) => s.id === 0)?.keys === keys.length);
  });

  it('a join whose answer was lost: no write is acknowledged without the replica the table may count in sync, and the shard serves again once that is settled', async () => {
    cluster = new TestCluster(2);
    const c = cluster;
    await c.start('n1', 'n2');
    c.coordinator.assign(0, 'n1', []);
    await c.settled(0);
    const keys = c.keysIn(0, 200);
    for (const k of keys.slice(0, 10)) await c.node('n1').put(k, bytes(k));
    c.coordinator.setInSyncMode = 'lost';
    c.coordinator.move(0, 'n1', ['n2']);
    await waitFor('the join committed with its answer lost', () => c.coordinator.shard(0).inSync.includes('n2'));
    const shardOn = (id: string) => c.node(id).info().shards.find((s) => s.id === 0)!;
    let acked = 0;
    let refused = 0;
    for (const k of keys.slice(10)) {
      if (acked >= 5) break;
      const ok = await c.node('n1').put(k, bytes(k)).then(
        () => true,
        () => false,
      );
      if (!ok) {
        refused++;
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      acked++;
      expect(shardOn('n2').seq, `${k} acknowledged while the table counts n2 in sync`).toBeGreaterThanOrEqual(shardOn('n1').seq);
    }
    expect(refused, 'writes were held while the join was unsettled').toBeGreaterThan(0);
    expect(acked, 'the shard serves again once the join is settled').toBe(5);
    expect(shardOn('n1').role).toBe('primary');
  });

  it('a replica that missed writes catches up from its own data: only the missed writes are replayed, nothing is copied whole', async () => {
    cluster = new TestCluster(2);
    const c = cluster;
    await c.start('n1', 'n2');
    c.coordinator.assign(0, 'n1', ['n2']);
    await c.settled(0);
    const before = c.keysIn(0, 30);
    const missed = c.keysIn(0, 15, 'missed');
    for (const k of before) await c.node('n1').put(k, bytes(`v1-${k}`));
    c.link('n2', 'hang');
    for (const k of missed) await c.node('n1').put(k, bytes(`v2-${k}`));
    await c.node('n1').delete(before[0]!);
    expect(c.coordinator.shard(0).inSync).toEqual(['n1']);
    c.link('n2', 'ok');
    await waitFor('n2 back in sync', () => c.coordinator.shard(0).inSync.includes('n2'));
    const primaryLog = c.nodes.get('n1')!.logger.records;
    const catchUp = primaryLog.find((r) => r.msg === 'catch-up begun');
    expect(catchUp?.fields).toMatchObject({ shard: 0, node: 'n2', fromSeq: before.length });
    expect(primaryLog.filter((r) => r.msg === 'recovery begun'), 'a full copy').toEqual([]);
    const seq = c.node('n1').info().shards.find((s) => s.id === 0)!.seq;
    await waitFor('replica at the primary’s seq', () => c.node('n2').info().shards.find((s) => s.id === 0)?.seq === seq);
    await c.node('n1').stop();
    await c.node('n2').stop();
    const [a, b] = await Promise.all([contents(c.nodes.get('n1')!.dir, 0), contents(c.nodes.get('n2')!.dir, 0)]);
    expect(a.size).toBe(before.length - 1 + missed.length);
    expect(b).toEqual(a);
  });

  it('deletes a copy the table no longer assigns to the node', async () => {
    cluster = new TestCluster(2);
    const c = cluster;
    await c.start('n1', 'n2');
    c.coordinator.assign(0, 'n1', ['n2']);
    await c.settled(0);
    for (const k of c.keysIn(0, 30)) await c.node('n1').put(k, bytes(k));
    c.coordinator.move(0, 'n1', []);
    await waitFor('n2 dropped its copy', () => !c.node('n2').info().shards.some((s) => s.id === 0));
    await waitFor('deletion logged', () => c.nodes.get('n2')!.logger.records.some((r) => r.msg === 'shard copy deleted'));
    await c.node('n2').stop();
    expect((await contents(c.nodes.get('n2')!.dir, 0)).size).toBe(0);
  });
});
