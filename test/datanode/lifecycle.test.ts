import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterErrorCode, isClusterError } from '../../src/errors/index.js';
import { bytes, TestCluster, text, waitFor } from './harness.js';

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.close();
});

describe('node lifecycle', () => {
  it('keeps its data and identity across a restart', async () => {
    cluster = new TestCluster(2);
    const c = cluster;
    await c.start('n1');
    c.coordinator.assign(0, 'n1', []);
    await c.settled(0);
    const key = c.keyIn(0);
    await c.node('n1').put(key, bytes('kept'));
    const identity = readFileSync(path.join(c.nodes.get('n1')!.dir, 'identity'), 'utf8');
    expect(identity.trim()).toMatch(/^[0-9a-f]{32}$/);
    const again = await c.restart('n1');
    expect(readFileSync(path.join(c.nodes.get('n1')!.dir, 'identity'), 'utf8')).toBe(identity);
    await waitFor('lease after restart', () => again.info().lease.valid && again.info().shards.some((s) => s.role === 'primary'));
    expect(text(await again.get(key))).toBe('kept');
    expect(again.info().shards.find((s) => s.id === 0)).toMatchObject({ seq: 1, keys: 1 });
    await again.put(key, bytes('next'));
    expect(again.info().shards.find((s) => s.id === 0)!.seq).toBe(2);
  });

  it('refuses to start a second process with the same id and another identity', async () => {
    cluster = new TestCluster(2);
    const c = cluster;
    await c.start('n1');
    const impostorDir = path.join(c.root, 'elsewhere');
    const impostor = c.create('n1', { dataDir: impostorDir });
    const err = await impostor.node.start().catch((e: unknown) => e);
    expect(isClusterError(err, ClusterErrorCode.Conflict)).toBe(true);
    expect((err as Error).message).toContain('n1');
    expect((err as Error).message).toContain(impostorDir);
  });

  it('drains: resolves once the table lists no copies, or times out', async () => {
    cluster = new TestCluster(2);
    const c = cluster;
    await c.start('n1', 'n2');
    c.coordinator.assign(0, 'n1', ['n2']);
    await c.settled(0);
    await expect(c.node('n2').drain(300)).rejects.toSatisfy((e) => isClusterError(e, ClusterErrorCode.Timeout));
    expect(c.node('n2').health().status).toBe('draining');
    const drained = c.node('n2').drain(10_000);
    c.coordinator.move(0, 'n1', []);
    await drained;
    expect(c.coordinator.state.nodes.n2!.status).toBe('draining');
  });

  it('tells onChange listeners about lease and role changes, and stop() is idempotent', async () => {
    cluster = new TestCluster(2);
    const c = cluster;
    const t = c.create('n1');
    let calls = 0;
    const off = t.node.onChange(() => calls++);
    await t.node.start();
    await waitFor('lease', () => t.node.info().lease.valid);
    const before = calls;
    c.coordinator.assign(0, 'n1', []);
    await waitFor('role change seen', () => calls > before && t.node.info().shards.some((s) => s.role === 'primary'));
    off();
    await Promise.all([t.node.stop(), t.node.stop()]);
    await expect(t.node.put('k', bytes('v'))).rejects.toSatisfy((e) => isClusterError(e, ClusterErrorCode.Unavailable));
  });
});
