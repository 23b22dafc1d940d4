// shards.explain and cluster.plan through createCaller and REST, on the real routing table (apply) of the test service.
import { afterEach, describe, expect, it } from 'vitest';
import { createAppCaller } from '../../src/api/coordinator/index.js';
import { planPlacement } from '../../src/coordinator/placement/index.js';
import { apply, stateHash, type Command } from '../../src/coordinator/routing/index.js';
import { createNoopMetrics, silentLogger } from '../../src/observability/index.js';
import { FakeCoordinatorService, nodeControlFor, registerCommand } from './fake-service.js';
import { failure, rawRequest, startServer, type RunningServer } from './helpers.js';

const callerFor = (service: FakeCoordinatorService) =>
  createAppCaller({ service, nodeControl: nodeControlFor(service), logger: silentLogger, metrics: createNoopMetrics() });

/** n1..n3 with room, n4 full (capacity 0): 4 shards × 2 copies placed by the real planner. */
async function placed(): Promise<FakeCoordinatorService> {
  const service = new FakeCoordinatorService({ shards: 4 });
  for (const id of ['n1', 'n2', 'n3']) await service.propose({ ...registerCommand(id), identity: `id-${id}` } as Command);
  await service.propose({ ...registerCommand('n4', 0), identity: 'id-n4' } as Command);
  // Probed and found well, as the health monitor would have them (the storm guard counts healthy nodes).
  for (const id of ['n1', 'n2', 'n3', 'n4']) await service.propose({ type: 'setNodeStatus', atMs: Date.now(), reason: 'probed', nodeId: id, status: 'healthy' });
  for (let i = 0; i < 10; i++) {
    const steps = planPlacement(service.state, { nowMs: Date.now() + 60_000 });
    if (steps.length === 0) break;
    for (const step of steps) expect((await service.propose(step.command)).ok).toBe(true);
  }
  return service;
}

const propose = async (service: FakeCoordinatorService, c: Command) => expect(await service.propose(c), JSON.stringify(c)).toMatchObject({ ok: true });

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('shards.explain', () => {
  it('names the rule for a full node, a node in another status and a delayed replacement', async () => {
    const service = await placed();
    const shard = service.state.shards.find((s) => s.primary !== 'n2' && s.replicas.includes('n2'))!;
    expect(shard).toBeDefined();
    const spare = ['n1', 'n3'].find((id) => shard.primary !== id)!;
    await propose(service, { type: 'setMaintenance', atMs: Date.now(), reason: 'test', nodeIds: [spare], enabled: true });
    await propose(service, { type: 'setNodeStatus', atMs: Date.now(), reason: 'test', nodeId: 'n2', status: 'unhealthy', confirmedBy: ['c1'], voters: 1 });
    const answer = await callerFor(service).shards.explain({ id: shard.id });
    expect(answer).toMatchObject({ shard: shard.id, epoch: service.state.shards[shard.id]!.epoch });
    expect(answer.copies.map((c) => [c.node, c.role])).toEqual([
      [shard.primary, 'primary'],
      ['n2', 'replica'],
    ]);
    expect(answer.copies[1]?.why).toMatch(/n2 failed; its copy still counts for \d+\.\d s/);
    const rules = (id: string) => answer.nodes.find((n) => n.node === id)?.reasons.map((r) => r.rule);
    expect(rules('n4')).toEqual(['capacity']);
    expect(rules(spare)).toEqual(['status']);
    expect(answer.nodes.find((n) => n.node === spare)?.reasons[0]?.message).toBe(`${spare} is maintenance: it takes no new copies`);
    expect(rules('n2')).toEqual(['same-shard', 'status']);
    expect(answer.blocked_by.map((b) => b.rule)).toEqual(['replace-delay', 'no-target']);
    expect(answer.blocked_by[0]?.message).toMatch(/^n2 failed \d+\.\d s ago; its copy is replaced in \d+\.\d s \(recovery\.replaceDelayMs 10000\)$/);
  });

  it('answers 404 for a shard that does not exist, and 400 naming the field for a bad id', async () => {
    const service = await placed();
    const missing = await failure(callerFor(service).shards.explain({ id: 9 }));
    expect(missing.trpcCode).toBe('NOT_FOUND');
    const server = await startServer(service);
    servers.push(server);
    const bad = await rawRequest(`${server.url}/shards/x/explain`, 'GET');
    expect(bad.status).toBe(400);
    const ok = await rawRequest(`${server.url}/shards/0/explain?stale=true`, 'GET');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ shard: 0, copies: expect.any(Array), nodes: expect.any(Array), blocked_by: [] });
  });
});

describe('cluster.plan', () => {
  it('lists the moves for a failed node, promotions first, and the counts after, changing nothing', async () => {
    const service = await placed();
    const before = stateHash(service.state);
    const proposed = service.proposed.length;
    const plan = await callerFor(service).cluster.plan({ fail: ['n1'] });
    const led = service.state.shards.filter((s) => s.primary === 'n1').map((s) => s.id);
    const promotions = plan.moves.filter((m) => m.command === 'promotePrimary');
    expect(promotions.map((m) => m.shard).sort()).toEqual(led.sort());
    const lastPromotion = plan.moves.map((m) => m.command).lastIndexOf('promotePrimary');
    expect(plan.moves.slice(0, lastPromotion + 1).every((m) => m.command === 'promotePrimary' || m.command === 'setInSync')).toBe(true);
    expect(plan.result.nodes['n1']).toEqual({ copies: 0, primaries: 0 });
    // n2 and n3 hold every shard twice; nothing is left under-replicated.
    expect(plan.result.nodes['n2']).toEqual({ copies: 4, primaries: expect.any(Number) });
    expect(plan.result.under_replicated).toEqual([]);
    expect(stateHash(service.state)).toBe(before);
    expect(service.proposed.length).toBe(proposed);
  });

  it('a drain and a join: the drained node ends empty, the new one gets copies', async () => {
    const service = await placed();
    const plan = await callerFor(service).cluster.plan({ drain: ['n3'], join: [{ id: 'n5', capacity: 8, labels: { zone: 'b' } }] });
    expect(plan.moves.some((m) => m.command === 'setNodeStatus' && m.node === 'n3')).toBe(true);
    expect(plan.result.nodes['n3']).toEqual({ copies: 0, primaries: 0 });
    expect(plan.result.nodes['n5']?.copies).toBeGreaterThan(0);
  });

  it('refuses unknown nodes (404) and bad input (400), naming the field', async () => {
    const service = await placed();
    const caller = callerFor(service);
    const unknown = await failure(caller.cluster.plan({ fail: ['n9'] }));
    expect(unknown.trpcCode).toBe('NOT_FOUND');
    expect(unknown.error.message).toBe('fail[0]: no node n9 in the table');
    const twice = await failure(caller.cluster.plan({ fail: ['n1'], drain: ['n1'] }));
    expect(twice.error.message).toBe('drain[0]: n1 is named in fail already');
    const server = await startServer(service);
    servers.push(server);
    const bad = await rawRequest(`${server.url}/cluster/plan`, 'POST', { fail: 'n1' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('fail');
    const typo = await rawRequest(`${server.url}/cluster/plan`, 'POST', { fial: ['n1'] });
    expect(typo.status).toBe(400);
    const ok = await rawRequest(`${server.url}/cluster/plan`, 'POST', { maintenance: ['n2'] });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ moves: expect.any(Array), result: { nodes: expect.any(Object), under_replicated: [] } });
  });

  it('says when the storm guard would hold a failure back', async () => {
    const service = await placed();
    const settings: Command = { type: 'updateSettings', atMs: 0, reason: 'test', expectedVersion: service.state.config.version, settings: { minHealthyFraction: 1 } } as Command;
    const out = apply(service.state, settings, { index: 1, term: 1 });
    expect(out.result.ok).toBe(true);
    service.state = out.state;
    const plan = await callerFor(service).cluster.plan({ fail: ['n1'] });
    expect(plan.notes[0]).toMatch(/^n1 fails: refused \(STORM_GUARD\)/);
    expect(plan.moves).toEqual([]);
  });
});

describe('load reports', () => {
  it('a renewal may carry per-shard load: /nodes shows each node’s, /shards each shard’s; bad entries are 400 naming the field', async () => {
    const service = await placed();
    const caller = callerFor(service);
    const shard = service.state.shards[0]!;
    await caller.nodes.renewLease({ id: shard.primary!, identity: `id-${shard.primary}`, load: [{ shard: 0, readsPerS: 40, writesPerS: 10, bytesPerS: 5_000 }] });
    await caller.nodes.renewLease({ id: shard.replicas[0]!, identity: `id-${shard.replicas[0]}`, load: [{ shard: 0, readsPerS: 5, writesPerS: 0, bytesPerS: 100 }] });
    // An older node's renewal without load is still granted.
    await caller.nodes.renewLease({ id: 'n4', identity: 'id-n4' });
    const nodes = (await caller.nodes.list()).nodes;
    expect(nodes.find((n) => n.id === shard.primary)?.load).toEqual({ reads_per_s: 40, writes_per_s: 10, bytes_per_s: 5_000 });
    expect(nodes.find((n) => n.id === 'n4')?.load).toBeNull();
    const shards = (await caller.shards.list()).shards;
    expect(shards[0]?.load).toEqual({ reads_per_s: 45, writes_per_s: 10, bytes_per_s: 5_100 });
    expect(shards[1]?.load).toBeNull();
    const bad = await failure(caller.nodes.renewLease({ id: 'n1', identity: 'id-n1', load: [{ shard: 0, readsPerS: -1, writesPerS: 0, bytesPerS: 0 }] }));
    expect(bad.trpcCode).toBe('BAD_REQUEST');
    expect(bad.error.message).toMatch(/load\.0\.readsPerS|load\[0\]\.readsPerS/);
  });
});
