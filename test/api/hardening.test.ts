import { describe, expect, it } from 'vitest';
import { createAppCaller } from '../../src/api/coordinator/index.js';
import type { ApiContext } from '../../src/api/coordinator/context.js';
import { ClusterErrorCode, isClusterError } from '../../src/errors/index.js';
import { createNoopMetrics, silentLogger } from '../../src/observability/index.js';
import { FakeCoordinatorService, nodeControlFor } from './fake-service.js';
import { rawRequest, startServer } from './helpers.js';

describe('hardening', () => {
  it('a node cannot be registered at a coordinator’s API or peer address (localhost included); nothing is proposed', async () => {
    const service = new FakeCoordinatorService();
    const caller = createAppCaller({ service, nodeControl: nodeControlFor(service), logger: silentLogger, metrics: createNoopMetrics() });
    for (const address of ['127.0.0.1:7001', 'localhost:7101']) {
      const err = await caller.nodes.register({ id: 'n1', address }).catch((e: unknown) => (e as { cause?: unknown }).cause);
      expect(isClusterError(err, ClusterErrorCode.Conflict) && err.message).toMatch(/coordinator c1/);
    }
    expect(service.proposed).toEqual([]);
    await caller.nodes.register({ id: 'n1', address: '127.0.0.1:7002' });
    expect(service.proposed).toHaveLength(1);
  });

  it('a tRPC batch of more than 16 calls is refused with 400 before any runs', async () => {
    const service = new FakeCoordinatorService();
    const server = await startServer(service);
    const paths = Array.from({ length: 17 }, () => 'cluster.health').join(',');
    const big = await rawRequest(`${server.url}/trpc/${paths}?batch=1`, 'GET');
    expect(big.status).toBe(400);
    const ok = await rawRequest(`${server.url}/trpc/${Array.from({ length: 16 }, () => 'cluster.health').join(',')}?batch=1`, 'GET');
    expect(ok.status).toBe(200);
  });
});

describe('paths that keep the data', () => {
  const principal = (role: 'operator' | 'admin', internal = false) => ({ enforced: true as const, principal: { name: role, role, internal } });

  async function assigned() {
    const service = new FakeCoordinatorService({ shards: 2 });
    for (const id of ['n1', 'n2', 'n3']) await service.propose({ type: 'registerNode', atMs: 0, reason: 't', nodeId: id, address: `127.0.0.1:${8100 + Number(id.slice(1))}`, capacity: 8, version: '1' });
    await service.propose({ type: 'assignShard', atMs: 0, reason: 't', shardId: 0, expectedEpoch: 0, primary: 'n1', replicas: ['n2'] });
    const callerAs = (auth: ApiContext['auth']) =>
      createAppCaller({ service, nodeControl: nodeControlFor(service), logger: silentLogger, metrics: createNoopMetrics(), auth });
    return { service, callerAs };
  }

  it('an assignment that keeps no in-sync copy is refused (409 DATA_LOSS) unless an admin forces it, and then names what was lost', async () => {
    const { service, callerAs } = await assigned();
    const before = service.state;
    const refused = await callerAs(principal('admin')).shards.assign({ id: 0, primary: null, replicas: [], expectedEpoch: 1 }).catch((e: unknown) => (e as { cause?: unknown }).cause);
    expect(isClusterError(refused, ClusterErrorCode.Conflict) && refused.type).toEqual({ code: ClusterErrorCode.Conflict, reason: 'DATA_LOSS' });
    const operator = await callerAs(principal('operator')).shards.assign({ id: 0, primary: null, replicas: ['n3'], expectedEpoch: 1, force: true }).catch((e: unknown) => (e as { cause?: unknown }).cause);
    expect(isClusterError(operator, ClusterErrorCode.Forbidden)).toBe(true);
    expect(service.state).toBe(before);
    // Keeping an in-sync copy needs no force.
    await callerAs(principal('operator')).shards.assign({ id: 0, primary: 'n1', replicas: ['n3'], expectedEpoch: 1 });
    const forced = await callerAs(principal('admin')).shards.assign({ id: 0, primary: null, replicas: [], expectedEpoch: 2, force: true });
    expect(forced).toMatchObject({ primary: null, replicas: [], lost_in_sync_copies: ['n1'] });
  });

  it('marking a copy in sync: the primary’s report (internal token) as before, an admin only with force', async () => {
    const { service, callerAs } = await assigned();
    // Taking a copy out of the set loses nothing: no force needed.
    expect(await callerAs(principal('admin')).shards.setInSync({ id: 0, nodeId: 'n2', inSync: false, expectedEpoch: 1 })).toEqual({ epoch: 2 });
    const before = service.state;
    const refused = await callerAs(principal('admin')).shards.setInSync({ id: 0, nodeId: 'n2', inSync: true, expectedEpoch: 2 }).catch((e: unknown) => (e as { cause?: unknown }).cause);
    expect(isClusterError(refused, ClusterErrorCode.Conflict) && refused.type).toEqual({ code: ClusterErrorCode.Conflict, reason: 'DATA_LOSS' });
    expect(service.state).toBe(before);
    expect(await callerAs(principal('operator', true)).shards.setInSync({ id: 0, nodeId: 'n2', inSync: true, expectedEpoch: 2 })).toEqual({ epoch: 3 });
    await callerAs(principal('admin')).shards.setInSync({ id: 0, nodeId: 'n2', inSync: false, expectedEpoch: 3 });
    expect(await callerAs(principal('admin')).shards.setInSync({ id: 0, nodeId: 'n2', inSync: true, expectedEpoch: 4, force: true })).toEqual({ epoch: 5 });
  });
});

describe('a refused removal', () => {
  it('leaves the node as it was when a shard would lose its last in-sync copy', async () => {
    const service = new FakeCoordinatorService({ shards: 2 });
    for (const id of ['n1', 'n2']) await service.propose({ type: 'registerNode', atMs: 0, reason: 't', nodeId: id, address: `127.0.0.1:${8200 + Number(id.slice(1))}`, capacity: 8, version: '1' });
    await service.propose({ type: 'assignShard', atMs: 0, reason: 't', shardId: 0, expectedEpoch: 0, primary: 'n1', replicas: [] });
    const caller = createAppCaller({ service, nodeControl: nodeControlFor(service), logger: silentLogger, metrics: createNoopMetrics() });
    const before = service.state;
    const err = await caller.nodes.remove({ id: 'n1' }).catch((e: unknown) => (e as { cause?: unknown }).cause);
    expect(isClusterError(err, ClusterErrorCode.Conflict)).toBe(true);
    expect(service.state).toBe(before);
    expect((await caller.nodes.get({ id: 'n1' })).status).toBe(before.nodes['n1']?.status);
  });
});

describe('bounded event streams', () => {
  it('refuses a stream beyond the limit per replica with OVERLOADED, and takes one again once another ends', async () => {
    const { eventStream } = await import('../../src/api/coordinator/event-stream.js');
    const { MAX_EVENT_SUBSCRIBERS } = await import('../../src/api/coordinator/limits.js');
    const service = new FakeCoordinatorService();
    const stops = Array.from({ length: MAX_EVENT_SUBSCRIBERS + 1 }, () => new AbortController());
    const waiting = stops.slice(0, MAX_EVENT_SUBSCRIBERS).map((c) => eventStream(service, 0, c.signal).next());
    const refused = await eventStream(service, 0, stops[MAX_EVENT_SUBSCRIBERS]!.signal).next().catch((e: unknown) => e);
    expect(isClusterError(refused, ClusterErrorCode.Overloaded)).toBe(true);
    // One subscriber goes away: its stream ends and frees its place.
    stops[0]!.abort();
    expect(await waiting[0]).toEqual({ done: true, value: undefined });
    const again = new AbortController();
    const next = eventStream(service, 0, again.signal).next();
    again.abort();
    expect(await next).toEqual({ done: true, value: undefined });
    for (const c of stops) c.abort();
    await Promise.all(waiting);
  });
});
