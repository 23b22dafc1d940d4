/**
 * The coordinator's side of the data path against the data node's real HTTP
 * server (around an in-memory node): the handoff call of the NodeLink, and
 * `/data/<key>` forwarded by a coordinator.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { createHttpNodeLink } from '../../src/api/coordinator/index.js';
import { ClusterError, ClusterErrorCode } from '../../src/errors/index.js';
import { startNodeServer } from './datanode/helpers.js';
import { FakeCoordinatorService, registerCommand } from './fake-service.js';
import { startServer } from './helpers.js';

function send(url: string, method: string, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the HTTP node link', () => {
  it('asks a node to hand a shard off through its tRPC endpoint', async () => {
    const { node, server } = await startNodeServer();
    const link = createHttpNodeLink({ localAddress: '127.0.0.1' });
    expect(await link.handoff(server.address, { shard: 3, epoch: 4 }, 2_000)).toEqual({ lastSeq: 10, caughtUp: true });
    expect(node.lastArgs('handoff')).toEqual([{ shard: 3, epoch: 4 }]);
  });

  it('rejects when the node refuses, or cannot be reached', async () => {
    const { node, server } = await startNodeServer();
    node.failWith('handoff', new ClusterError({ code: ClusterErrorCode.StaleEpoch, shard: 3, expectedEpoch: 4, currentEpoch: 5 }, 'shard 3 is at epoch 5'));
    const link = createHttpNodeLink();
    await expect(link.handoff(server.address, { shard: 3, epoch: 4 }, 2_000)).rejects.toThrow(/STALE_EPOCH: shard 3 is at epoch 5/);
    await server.close();
    await expect(link.handoff(server.address, { shard: 3, epoch: 4 }, 2_000)).rejects.toThrow(/handoff on the node at .* failed: (ECONNREFUSED|ECONNRESET|socket hang up)/);
  });

  it('rejects a node that does not answer in time', async () => {
    const hung = http.createServer(() => undefined);
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    const port = (hung.address() as { port: number }).port;
    try {
      await expect(createHttpNodeLink().handoff(`127.0.0.1:${port}`, { shard: 0, epoch: 1 }, 50)).rejects.toThrow(/no answer within 50 ms/);
    } finally {
      hung.closeAllConnections();
      await new Promise((r) => hung.close(r));
    }
  });
});

describe('/data/<key> forwarded to a data node server', () => {
  it('round-trips values under odd keys, at the shard’s epoch', async () => {
    const { node, server } = await startNodeServer();
    const service = new FakeCoordinatorService({ shards: 2 });
    await service.propose({ ...registerCommand('n1'), address: server.address });
    for (const id of [0, 1]) await service.propose({ type: 'assignShard', atMs: 0, reason: 'test', shardId: id, expectedEpoch: 0, primary: 'n1', replicas: [] });
    const coordinator = await startServer(service);
    for (const key of ['user@example.com', 'path/to/x', '数字', 'a b']) {
      const url = `${coordinator.url}/data/${encodeURIComponent(key)}`;
      expect((await send(url, 'PUT', Buffer.from(`v:${key}`))).status, key).toBe(204);
      expect(node.lastArgs('put')?.[0]).toBe(key);
      expect(node.lastArgs('put')?.[2]).toBe(1);
      const got = await send(url, 'GET');
      expect(got.status, key).toBe(200);
      expect(got.body.toString()).toBe(`v:${key}`);
    }
    expect((await send(`${coordinator.url}/data/${encodeURIComponent('数字')}`, 'DELETE')).status).toBe(204);
    expect((await send(`${coordinator.url}/data/${encodeURIComponent('数字')}`, 'GET')).status).toBe(404);
  });
});
