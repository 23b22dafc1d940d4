// Maintenance and evacuation through the routers (createCaller) and REST: one command each, 4xx naming the field
// or the node, and nothing half applied.
import { describe, expect, it } from 'vitest';
import { createAppCaller } from '../../src/api/coordinator/index.js';
import { ClusterErrorCode } from '../../src/errors/index.js';
import { createNoopMetrics, silentLogger } from '../../src/observability/index.js';
import { stateHash } from '../../src/coordinator/routing/index.js';
import { FakeCoordinatorService, nodeControlFor } from './fake-service.js';
import { failure, rawRequest, startServer } from './helpers.js';

async function cluster(nodes = ['n1', 'n2', 'n3']) {
  const service = new FakeCoordinatorService({ shards: 4 });
  const caller = createAppCaller({ service, nodeControl: nodeControlFor(service), logger: silentLogger, metrics: createNoopMetrics() });
  for (const [i, id] of nodes.entries()) await caller.nodes.register({ id, address: `127.0.0.1:${8081 + i}`, capacity: 8 });
  await caller.shards.assign({ id: 0, primary: 'n1', replicas: ['n2'], expectedEpoch: 0 });
  await caller.shards.assign({ id: 1, primary: 'n2', replicas: ['n1'], expectedEpoch: 0 });
  await caller.shards.assign({ id: 2, primary: 'n3', replicas: ['n1'], expectedEpoch: 0 });
  await caller.shards.assign({ id: 3, primary: 'n3', replicas: ['n2'], expectedEpoch: 0 });
  service.proposed.length = 0;
  return { service, caller };
}

describe('nodes.maintenance', () => {
  it('puts the nodes in maintenance with one command; /nodes shows status, reason, since and until', async () => {
    const { service, caller } = await cluster(['n1', 'n2', 'n3', 'n4']);
    const before = Date.now();
    const answer = await caller.nodes.maintenance({ nodes: ['n1', 'n2'], enabled: true, reason: 'kernel upgrade', ttlMs: 1_800_000 });
    expect(service.proposed.map((c) => c.type)).toEqual(['setMaintenance']);
    expect(answer.nodes.map((n) => [n.id, n.status])).toEqual([['n1', 'maintenance'], ['n2', 'maintenance']]);
    const n1 = await caller.nodes.get({ id: 'n1' });
    expect(n1.maintenance).toMatchObject({ reason: 'kernel upgrade' });
    expect(n1.maintenance?.since_ms).toBeGreaterThanOrEqual(before);
    expect(n1.maintenance?.until_ms).toBe((n1.maintenance?.since_ms ?? 0) + 1_800_000);
    expect((await caller.nodes.list()).nodes.find((n) => n.id === 'n2')).toMatchObject({ status: 'maintenance', maintenance: { reason: 'kernel upgrade' } });
    const off = await caller.nodes.maintenance({ nodes: ['n1'], enabled: false });
    expect(off.nodes[0]).toMatchObject({ id: 'n1', status: 'unknown', maintenance: null });
  });

  it('an unknown id is 404 naming it, and nothing changes', async () => {
    const { service, caller } = await cluster();
    const hash = stateHash(service.state);
    const { trpcCode, error } = await failure(caller.nodes.maintenance({ nodes: ['n1', 'n9'], enabled: true }));
    expect(trpcCode).toBe('NOT_FOUND');
    expect(error.type).toMatchObject({ code: ClusterErrorCode.NotFound, resource: 'node', id: 'n9' });
    expect(error.message).toMatch(/n9/);
    expect(stateHash(service.state)).toBe(hash);
  });

  it('an empty list or a bad field is 400 naming the field, before anything is proposed', async () => {
    const { service, caller } = await cluster();
    const cases: [unknown, RegExp][] = [
      [{ nodes: [], enabled: true }, /nodes/],
      [{ nodes: ['n1'] }, /enabled/],
      [{ nodes: ['n1'], enabled: true, ttlMs: -5 }, /ttlMs/],
      [{ nodes: ['n1'], enabled: false, ttlMs: 5_000 }, /ttlMs/],
      [{ nodes: ['n1', 'n1'], enabled: true }, /listed twice/],
      [{ nodes: ['n1'], enabled: true, ttl: 5 }, /ttl/],
    ];
    for (const [input, field] of cases) {
      const { trpcCode, error } = await failure(caller.nodes.maintenance(input as never));
      expect(trpcCode, JSON.stringify(input)).toBe('BAD_REQUEST');
      expect(error.message, JSON.stringify(input)).toMatch(field);
    }
    expect(service.proposed).toEqual([]);
  });

  it('409 when the nodes left could not hold replicationFactor copies of every shard, saying how many are needed; nothing changes', async () => {
    const { service, caller } = await cluster();
    const hash = stateHash(service.state);
    const { trpcCode, error } = await failure(caller.nodes.maintenance({ nodes: ['n1', 'n2'], enabled: true }));
    expect(trpcCode).toBe('CONFLICT');
    expect(error.message).toMatch(/leave 1 node taking copies \(n3\).*at least 2 nodes/);
    expect(stateHash(service.state)).toBe(hash);
  });
});

describe('nodes.evacuate', () => {
  it('starts at once and shows its progress; cancel stops it; what moved stays moved', async () => {
    const { service, caller } = await cluster(['n1', 'n2', 'n3']);
    const started = await caller.nodes.evacuate({ id: 'n1', reason: 'disk failing' });
    expect(started).toMatchObject({
      status: 'evacuating',
      evacuation: { state: 'running', reason: 'disk failing', total: 3, moved: 0, remaining: 3, bytes_copied: 0, eta_ms: null, stalled_reason: null },
    });
    // A copy moves (as the placement driver would do it).
    await caller.shards.assign({ id: 2, primary: 'n3', replicas: ['n2'], expectedEpoch: 1 });
    expect((await caller.nodes.get({ id: 'n1' })).evacuation).toMatchObject({ moved: 1, remaining: 2 });
    const cancelled = await caller.nodes.cancelEvacuation({ id: 'n1' });
    expect(cancelled).toMatchObject({ status: 'unknown', evacuation: { state: 'cancelled', moved: 1, remaining: 2 } });
    expect(service.state.shards[2]?.replicas).toEqual(['n2']);
    const again = await failure(caller.nodes.evacuate({ id: 'n9' }));
    expect(again.error.type).toMatchObject({ code: ClusterErrorCode.NotFound, id: 'n9' });
    const wrong = await failure(caller.nodes.cancelEvacuation({ id: 'n2' }));
    expect(wrong.trpcCode).toBe('CONFLICT');
  });
});

describe('REST', () => {
  it('POST /nodes/maintenance, /nodes/:id/evacuate and /evacuate/cancel map to the same operations, with 400/404/409', async () => {
    const { service } = await cluster(['n1', 'n2', 'n3', 'n4']);
    const server = await startServer(service);
    const on = await rawRequest(`${server.url}/nodes/maintenance`, 'POST', { nodes: ['n4'], enabled: true, reason: 'r', ttlMs: 60_000 });
    expect(on).toMatchObject({ status: 200, body: { nodes: [{ id: 'n4', status: 'maintenance', maintenance: { reason: 'r' } }] } });
    expect(await rawRequest(`${server.url}/nodes/maintenance`, 'POST', { nodes: ['x9'], enabled: true })).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    const bad = await rawRequest(`${server.url}/nodes/maintenance`, 'POST', { nodes: [], enabled: true });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/nodes/);
    const ev = await rawRequest(`${server.url}/nodes/n3/evacuate`, 'POST', { reason: 'urgent' });
    expect(ev).toMatchObject({ status: 200, body: { id: 'n3', status: 'evacuating', evacuation: { state: 'running', total: 2 } } });
    const info = await rawRequest(`${server.url}/nodes/n3/info`, 'GET');
    expect(info.body.evacuation).toMatchObject({ started_at_ms: expect.any(Number), total: 2, moved: 0, remaining: 2, eta_ms: null, stalled_reason: null });
    expect(info.body.uptime_ms).toBeGreaterThanOrEqual(0);
    expect(typeof info.body.uptime).toBe('string');
    expect(await rawRequest(`${server.url}/nodes/n3/evacuate/cancel`, 'POST', {})).toMatchObject({ status: 200, body: { status: 'unknown' } });
    expect(await rawRequest(`${server.url}/nodes/n3/evacuate/cancel`, 'POST', { extra: 1 })).toMatchObject({ status: 400 });
  });
});
