/**
 * The smart KV client against in-process fakes (test/client/kv-fake-cluster.ts):
 * the real coordinator API over a fake service with a real routing table,
 * and data nodes that fence on primary and epoch like real ones.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createKvClient, errorCodeOf, isKvError, KvError, type KvClient, type KvClientOptions } from '../../src/client/index.js';
import { base, deadAddress, promoteReplica, startFakeCluster, type FakeCluster } from './kv-fake-cluster.js';

const fast = { timeoutMs: 2_000, backoff: { baseMs: 1, capMs: 5 }, random: () => 0.5 };

const clients: KvClient[] = [];
afterEach(() => {
  for (const kv of clients.splice(0)) kv.close();
});
function client(cluster: FakeCluster, options: Partial<KvClientOptions> = {}): KvClient {
  const kv = createKvClient({ coordinators: [cluster.coordinator], ...fast, ...options });
  clients.push(kv);
  return kv;
}

async function failure(p: Promise<unknown>): Promise<KvError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isKvError(err)) throw new Error(`expected a KvError, got ${String(err)}`);
  return err;
}

/** Keys until every shard has one. */
function keysCoveringShards(cluster: FakeCluster): string[] {
  const byShard = new Map<number, string>();
  for (let i = 0; i < 1_000 && byShard.size < cluster.service.state.shards.length; i++) {
    const key = `key-${i}`;
    if (!byShard.has(cluster.service.shardOf(key))) byShard.set(cluster.service.shardOf(key), key);
  }
  return [...byShard.values()];
}

describe('createKvClient', () => {
  it('sends each key to its shard primary with the shard epoch, and reads it back', async () => {
    const cluster = await startFakeCluster(8, 3);
    const kv = client(cluster);
    const keys = keysCoveringShards(cluster);
    expect(keys).toHaveLength(8);
    for (const key of keys) await kv.put(key, `value of ${key}`);
    for (const key of keys) expect(await kv.getText(key)).toBe(`value of ${key}`);
    for (const node of cluster.nodes) {
      for (const r of node.requests) {
        const shard = cluster.service.shardOf(r.key);
        expect(cluster.service.state.shards[shard]?.primary).toBe(node.id);
        expect(r.epoch).toBe(cluster.service.epochOf(shard));
      }
    }
    // Every node served something, and nothing was refused: one request per call.
    expect(cluster.nodes.every((n) => n.requests.length > 0)).toBe(true);
    expect(cluster.nodes.reduce((n, x) => n + x.requests.length, 0)).toBe(16);
    // The first table read is stale; nothing asked for a linearizable one.
    expect(cluster.service.reads[0]).toBe('stale');
    expect(cluster.service.tableRefreshes()).toBe(0);
  });

  it('round-trips odd keys and binary values', async () => {
    const cluster = await startFakeCluster();
    const kv = client(cluster);
    const keys = ['user@example.com', 'path/to/x', 'a b', '数字', '100%', 'q?x=1&y#z', '🙂'];
    const binary = Uint8Array.from([0, 255, 10, 13, 0x80, 0xfe]);
    for (const key of keys) await kv.put(key, binary);
    for (const key of keys) {
      expect(Buffer.from((await kv.get(key)) ?? [])).toEqual(Buffer.from(binary));
      // The node decoded exactly the key the client was given.
      expect(cluster.primaryOf(key).store.has(key)).toBe(true);
    }
  });

  it('answers null for a missing key, and deletes', async () => {
    const cluster = await startFakeCluster();
    const kv = client(cluster);
    expect(await kv.get('absent')).toBeNull();
    await kv.put('k', 'v');
    await kv.delete('k');
    expect(await kv.getText('k')).toBeNull();
    expect(cluster.primaryOf('k').store.has('k')).toBe(false);
  });

  it('refreshes the table linearizably and retries at the new primary on NOT_PRIMARY (421)', async () => {
    const cluster = await startFakeCluster();
    const kv = client(cluster);
    await kv.put('moving', 'one');
    const shard = cluster.service.shardOf('moving');
    const old = cluster.primaryOf('moving');
    const promoted = await promoteReplica(cluster.service, shard);
    await kv.put('moving', 'two');
    expect(old.requests.map((r) => r.method)).toEqual(['PUT', 'PUT']);
    const fresh = cluster.node(promoted);
    expect(fresh.requests).toEqual([expect.objectContaining({ method: 'PUT', key: 'moving', epoch: cluster.service.epochOf(shard) })]);
    expect(fresh.store.get('moving')?.toString()).toBe('two');
    expect(cluster.service.tableRefreshes()).toBe(1);
  });

  it('refreshes and retries with the new epoch on STALE_EPOCH (409)', async () => {
    const cluster = await startFakeCluster();
    const kv = client(cluster);
    await kv.put('k', 'one');
    const shard = cluster.service.shardOf('k');
    const before = cluster.service.epochOf(shard);
    const record = cluster.service.state.shards[shard]!;
    // Same primary, new epoch: the replica leaves the in-sync set.
    await cluster.service.must({ type: 'setInSync', ...base, shardId: shard, expectedEpoch: before, nodeId: record.replicas[0]!, inSync: false });
    expect(await kv.getText('k')).toBe('one');
    const primary = cluster.primaryOf('k');
    expect(primary.requests.map((r) => r.epoch)).toEqual([before, before, before + 1]);
    expect(cluster.service.tableRefreshes()).toBe(1);
  });

  it('refreshes and retries when the primary refuses the connection', async () => {
    const cluster = await startFakeCluster(2, 2);
    const { service } = cluster;
    await service.must({ type: 'registerNode', ...base, nodeId: 'n9', address: await deadAddress(), capacity: 16, version: '0.1.0' });
    const shard = service.shardOf('k');
    const at = () => ({ ...base, shardId: shard, expectedEpoch: service.epochOf(shard) });
    const { primary, replicas } = service.state.shards[shard]!;
    // n9 becomes primary of k's shard and is down; the table read after the failure finds the shard moved on.
    await service.must({ type: 'moveShard', ...at(), primary, replicas: [...replicas, 'n9'] });
    await service.must({ type: 'setInSync', ...at(), nodeId: 'n9', inSync: true });
    await service.must({ type: 'promotePrimary', ...at(), nodeId: 'n9' });
    const kv = client(cluster);
    service.onLinearizable = async () => {
      service.onLinearizable = undefined;
      await service.must({ type: 'promotePrimary', ...at(), nodeId: replicas[0]! });
    };
    await kv.put('k', 'v');
    expect(cluster.node(replicas[0]!).store.get('k')?.toString()).toBe('v');
    expect(service.tableRefreshes()).toBe(1);
  });

  it('does not retry INVALID_INPUT (400) or PAYLOAD_TOO_LARGE (413), and says what the node said', async () => {
    const cluster = await startFakeCluster();
    const kv = client(cluster);
    const node = cluster.primaryOf('k');
    node.script.push({ status: 400, body: { error: { code: 'INVALID_INPUT', message: 'epoch: expected an integer' } } });
    const bad = await failure(kv.put('k', 'v'));
    expect(bad).toMatchObject({ code: 'INVALID_INPUT', status: 400, key: 'k', retriesExhausted: false });
    expect(bad.message).toContain('epoch: expected an integer');
    node.script.push({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', message: 'value: more than 10 bytes', limitBytes: 10 } } });
    const large = await failure(kv.put('k', 'a value longer than ten bytes'));
    expect(large).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', status: 413, details: { limitBytes: 10 } });
    expect(errorCodeOf(large)).toBe('PAYLOAD_TOO_LARGE');
    expect(node.requests).toHaveLength(2);
    expect(cluster.service.tableRefreshes()).toBe(0);
  });

  it('gives up after maxAttempts with the last error, each attempt sent', async () => {
    const cluster = await startFakeCluster();
    const kv = client(cluster, { maxAttempts: 3 });
    const node = cluster.primaryOf('k');
    node.always = { status: 503, body: { error: { code: 'NO_LEASE', message: 'n1 holds no lease', node: node.id } } };
    const err = await failure(kv.get('k'));
    expect(err).toMatchObject({ code: 'NO_LEASE', status: 503, retriesExhausted: true, details: { node: node.id } });
    expect(err.attempts).toHaveLength(3);
    expect(err.message).toMatch(/gave up after 3 attempts/);
    expect(err.message).toContain(node.address);
    expect(node.requests).toHaveLength(3);
  });

  it('stops at the deadline even with attempts left', async () => {
    const cluster = await startFakeCluster();
    const kv = client(cluster, { maxAttempts: 100, deadlineMs: 300, backoff: { baseMs: 50, capMs: 50 } });
    const node = cluster.primaryOf('k');
    node.always = { status: 503, body: { error: { code: 'UNAVAILABLE', message: 'recovering', reason: 'recovering' } } };
    const err = await failure(kv.put('k', 'v'));
    expect(err).toMatchObject({ code: 'UNAVAILABLE', retriesExhausted: true });
    expect(node.requests.length).toBeGreaterThan(0);
    expect(node.requests.length).toBeLessThan(100);
  });

  it('refuses a bad key locally: nothing reaches a coordinator or a node', async () => {
    const cluster = await startFakeCluster();
    const kv = client(cluster);
    for (const key of ['', 'x'.repeat(1_025), 'lone \uD800 surrogate']) {
      const err = await failure(kv.put(key, 'v'));
      expect(err).toMatchObject({ code: 'INVALID_INPUT', status: 0 });
      expect(err.message).toMatch(/key: /);
    }
    expect(await failure(kv.get(42 as unknown as string))).toMatchObject({ code: 'INVALID_INPUT' });
    expect(cluster.service.reads).toEqual([]);
    expect(cluster.nodes.every((n) => n.requests.length === 0)).toBe(true);
  });

  it('coalesces the refreshes of many calls failing together', async () => {
    const cluster = await startFakeCluster();
    const kv = client(cluster);
    await kv.put('hot', 'v0');
    await promoteReplica(cluster.service, cluster.service.shardOf('hot'));
    await Promise.all(Array.from({ length: 20 }, (_, i) => kv.put('hot', `v${i + 1}`)));
    expect(cluster.primaryOf('hot').store.has('hot')).toBe(true);
    // Every call failed on the same table: one refresh answers them all.
    expect(cluster.service.tableRefreshes()).toBe(1);
  });

  it('refuses an answer whose value is above maxValueBytes', async () => {
    const cluster = await startFakeCluster();
    const kv = client(cluster, { maxValueBytes: 4 });
    cluster.primaryOf('k').script.push({ status: 200, body: Buffer.from('0123456789') });
    expect(await failure(kv.get('k'))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', retriesExhausted: false });
    expect(await failure(kv.put('k', '01234'))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', status: 0 });
  });

  it('dials the data nodes from localAddress', async () => {
    const cluster = await startFakeCluster();
    const kv = client(cluster, { localAddress: '127.0.0.2' });
    await kv.put('k', 'v');
    expect(cluster.primaryOf('k').requests.map((r) => r.from)).toEqual(['127.0.0.2']);
  });

  it('refresh() reads the table linearizably', async () => {
    const cluster = await startFakeCluster();
    const kv = client(cluster);
    await kv.refresh();
    expect(cluster.service.reads).toEqual(['linearizable', 'linearizable']);
    expect(cluster.nodes.every((n) => n.requests.length === 0)).toBe(true);
  });

  it('fails calls after close()', async () => {
    const cluster = await startFakeCluster();
    const kv = client(cluster);
    kv.close();
    await expect(kv.get('k')).rejects.toThrow(/closed/);
  });

  describe('batches', () => {
    it('sends the calls made together for one node as one batch, each answered as if alone', async () => {
      const cluster = await startFakeCluster(8, 3);
      const kv = client(cluster);
      const keys = Array.from({ length: 60 }, (_, i) => `b-${i}`);
      await Promise.all(keys.map((k) => kv.put(k, `v-${k}`)));
      const batches = cluster.nodes.reduce((n, x) => n + x.batches, 0);
      // 60 calls in one turn: one batch per node, every call in one of them.
      expect(batches).toBe(3);
      expect(cluster.nodes.reduce((n, x) => n + x.requests.length, 0)).toBe(60);
      const [values, missing] = await Promise.all([Promise.all(keys.map((k) => kv.getText(k))), Promise.all(['none-1', 'none-2'].map((k) => kv.get(k)))]);
      expect(values).toEqual(keys.map((k) => `v-${k}`));
      expect(missing).toEqual([null, null]);
      await Promise.all(keys.slice(0, 30).map((k) => kv.delete(k)));
      expect(await Promise.all(keys.slice(0, 31).map((k) => kv.get(k)))).toEqual([...Array.from({ length: 30 }, () => null), expect.anything()]);
    });

    it('retries only the calls of a batch that were refused', async () => {
      const cluster = await startFakeCluster(4, 3);
      const kv = client(cluster);
      await kv.refresh();
      const node = cluster.node('n1');
      const keys = Array.from({ length: 200 }, (_, i) => `r-${i}`).filter((k) => cluster.primaryOf(k) === node).slice(0, 4);
      node.script.push({ status: 200 }, { status: 503, body: { error: { code: 'UNAVAILABLE', message: 'recovering' } } }, { status: 400, body: { error: { code: 'INVALID_INPUT', message: 'bad' } } });
      const results = await Promise.allSettled(keys.map((k) => kv.put(k, 'v')));
      expect(node.batches).toBeGreaterThanOrEqual(1);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'INVALID_INPUT', status: 400 });
      // The 503 was tried again; the others went once.
      expect(node.requests.map((r) => r.key).sort()).toEqual([...keys, keys[1]].sort());
      expect([...node.store.keys()].sort()).toEqual([keys[1], keys[3]].sort());
    });

    it('sends each call alone, from then on, to a node that does not take batches', async () => {
      const cluster = await startFakeCluster(4, 1);
      const kv = client(cluster);
      const node = cluster.node('n1');
      node.knowsBatches = false;
      await Promise.all(['a', 'b', 'c'].map((k) => kv.put(k, k)));
      expect(await Promise.all(['a', 'b', 'c'].map((k) => kv.getText(k)))).toEqual(['a', 'b', 'c']);
      expect(node.batches).toBe(0);
      expect(node.refusedBatches).toBe(1);
      expect(node.requests.map((r) => [r.method, r.inBatch])).toEqual([...['PUT', 'PUT', 'PUT', 'GET', 'GET', 'GET'].map((m) => [m, false])]);
    });

    it('sends a large value alone, not in a batch', async () => {
      const cluster = await startFakeCluster(1, 1);
      const kv = client(cluster);
      const node = cluster.node('n1');
      const big = Buffer.alloc(64 * 1024 + 1, 7);
      await Promise.all([kv.put('big', big), kv.put('s1', 'x'), kv.put('s2', 'y')]);
      expect(node.batches).toBe(1);
      expect(node.store.get('big')?.equals(big)).toBe(true);
      expect(node.requests.map((r) => [r.key, r.inBatch]).sort()).toEqual([['big', false], ['s1', true], ['s2', true]]);
    });
  });
});

