import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createAppCaller } from '../../src/api/coordinator/index.js';
import { createHttpNodeLink, createHttpReplicaLink } from '../../src/api/coordinator/node-link.js';
import type { NodeLink } from '../../src/coordinator/node-link.js';
import { ClusterErrorCode } from '../../src/errors/index.js';
import { createNoopMetrics, silentLogger } from '../../src/observability/index.js';
import { FakeCoordinatorService, nodeControlFor } from './fake-service.js';
import { failure, startServer } from './helpers.js';

/** A stand-in data node: `GET /health` answers what the test says (or nothing at all). */
async function fakeNode(health: () => unknown): Promise<{ address: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url !== '/health') {
      res.writeHead(404).end();
      return;
    }
    const body = health();
    if (body === 'hang') return;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const nodes: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.close()));
});

const healthOf = (id: string) => ({ status: 'ok', id, lease: { valid: true, remainingMs: 700, leader: 'c1', term: 2 } });

/** A follower of c1 whose table holds n1 at `address`. */
async function followerWith(address: string): Promise<FakeCoordinatorService> {
  const service = new FakeCoordinatorService({ id: 'c2' });
  await service.propose({ type: 'registerNode', atMs: 0, reason: 'test', nodeId: 'n1', address, capacity: 4, version: '0.1.0' });
  return service.followerOf('c1');
}

function callerFor(service: FakeCoordinatorService, nodeLink: NodeLink) {
  return createAppCaller({ service, nodeControl: nodeControlFor(service, nodeLink), logger: silentLogger, metrics: createNoopMetrics() });
}

describe('health.confirm', () => {
  it('a follower probes the node itself: reachable, or not with the error it ran into', async () => {
    const service = await followerWith('127.0.0.1:8081');
    let answer: 'up' | 'down' | 'impostor' = 'up';
    const link: NodeLink = {
      handoff: () => Promise.reject(new Error('no handoff')),
      probe: async () => {
        if (answer === 'down') throw new Error('connect ECONNREFUSED 127.0.0.1:8081');
        return { status: 'ok', id: answer === 'up' ? 'n1' : 'n7', lease: { valid: true, remainingMs: 500, leader: 'c1', term: 1 } };
      },
    };
    const caller = callerFor(service, link);
    expect(await caller.health.confirm({ nodeId: 'n1', address: '127.0.0.1:8081' })).toEqual({ reachable: true });
    answer = 'down';
    expect(await caller.health.confirm({ nodeId: 'n1', address: '127.0.0.1:8081' })).toEqual({ reachable: false, error: 'connect ECONNREFUSED 127.0.0.1:8081' });
    answer = 'impostor';
    expect(await caller.health.confirm({ nodeId: 'n1', address: '127.0.0.1:8081' })).toEqual({ reachable: false, error: 'the process at 127.0.0.1:8081 is n7, not n1' });
  });

  it('probes only a node of its own table, at the address the table has', async () => {
    const service = await followerWith('127.0.0.1:8081');
    const probed: string[] = [];
    const link: NodeLink = {
      handoff: () => Promise.reject(new Error('no handoff')),
      probe: async (address) => {
        probed.push(address);
        return { status: 'ok', id: 'n1', lease: { valid: true, remainingMs: 500, leader: 'c1', term: 1 } };
      },
    };
    const caller = callerFor(service, link);
    const unknown = await failure(caller.health.confirm({ nodeId: 'n9', address: '127.0.0.1:8081' }));
    expect(unknown.error.code).toBe(ClusterErrorCode.NotFound);
    expect(unknown.error.message).toMatch(/no node n9/);
    const elsewhere = await failure(caller.health.confirm({ nodeId: 'n1', address: '10.1.2.3:80' }));
    expect(elsewhere.error.code).toBe(ClusterErrorCode.Conflict);
    expect(elsewhere.error.message).toBe('node n1 is at 127.0.0.1:8081 in the table of c2, not at 10.1.2.3:80');
    const bad = await failure(caller.health.confirm({ nodeId: 'n1', address: 'not an address', extra: 1 } as never));
    expect(bad.error.code).toBe(ClusterErrorCode.InvalidInput);
    expect(probed).toEqual([]);
  });

  it('over HTTP: the leader asks a replica, which probes the node’s GET /health from its own table', async () => {
    let nodeAnswer: unknown = healthOf('n1');
    const node = await fakeNode(() => nodeAnswer);
    nodes.push(node);
    const service = await followerWith(node.address);
    const replica = await startServer(service);
    const link = createHttpReplicaLink({ localAddress: '127.0.0.1' });
    expect(await link.confirm(replica.address, { nodeId: 'n1', address: node.address }, 2_000)).toEqual({ reachable: true });
    // The node hangs: the replica's probe times out at its table's probeTimeoutMs (200 by default).
    nodeAnswer = 'hang';
    const hung = await link.confirm(replica.address, { nodeId: 'n1', address: node.address }, 2_000);
    expect(hung.reachable).toBe(false);
    expect(hung.error).toMatch(/no answer within 200 ms/);
    // A refusal by the replica is an error of the call, naming the replica.
    await expect(link.confirm(replica.address, { nodeId: 'n9', address: node.address }, 2_000)).rejects.toThrow(/health\.confirm on the replica at .*NOT_FOUND: no node n9/);
  });
});

describe('HTTP node link: probe', () => {
  it('reads the node’s GET /health, and refuses an answer that is not one', async () => {
    let nodeAnswer: unknown = healthOf('n1');
    const node = await fakeNode(() => nodeAnswer);
    nodes.push(node);
    const link = createHttpNodeLink({ localAddress: '127.0.0.1' });
    expect(await link.probe(node.address, 1_000)).toEqual(healthOf('n1'));
    nodeAnswer = { status: 'fine', id: 'n1' };
    await expect(link.probe(node.address, 1_000)).rejects.toThrow(/GET \/health on the node at .* answered something that is not a node health/);
    nodeAnswer = 'hang';
    await expect(link.probe(node.address, 100)).rejects.toThrow(/no answer within 100 ms/);
    await node.close();
    await expect(link.probe(node.address, 1_000)).rejects.toThrow(/ECONNREFUSED/);
  });
});
