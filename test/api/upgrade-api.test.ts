// The rolling upgrade's record through the router (createCaller) and REST: one command per call, 400 naming the field,
// 409 while one runs, progress in /cluster/info, the restart window in /nodes.
import { describe, expect, it } from 'vitest';
import { createAppCaller } from '../../src/api/coordinator/index.js';
import { stateHash } from '../../src/coordinator/routing/index.js';
import { createNoopMetrics, silentLogger } from '../../src/observability/index.js';
import { FakeCoordinatorService, nodeControlFor } from './fake-service.js';
import { failure, rawRequest, startServer } from './helpers.js';

async function cluster() {
  const service = new FakeCoordinatorService({ shards: 2 });
  const caller = createAppCaller({ service, nodeControl: nodeControlFor(service), logger: silentLogger, metrics: createNoopMetrics() });
  for (const [i, id] of ['n1', 'n2', 'n3'].entries()) await caller.nodes.register({ id, address: `127.0.0.1:${8081 + i}`, capacity: 8 });
  await caller.nodes.maintenance({ nodes: ['n3'], enabled: true, reason: 'disk swap' });
  await caller.shards.assign({ id: 0, primary: 'n1', replicas: ['n2'], expectedEpoch: 0 });
  await caller.shards.assign({ id: 1, primary: 'n2', replicas: ['n1'], expectedEpoch: 0 });
  service.proposed.length = 0;
  return { service, caller };
}

describe('upgrade router', () => {
  it('start records the serving nodes in order, then the coordinators, as one command; steps show in /cluster/info and /nodes', async () => {
    const { service, caller } = await cluster();
    const started = await caller.upgrade.start({ to: '0.1.7', restartTimeoutMs: 30_000 });
    expect(service.proposed.map((c) => c.type)).toEqual(['startUpgrade']);
    expect(started).toMatchObject({ to: '0.1.7', state: 'running', nodes: ['n1', 'n2'], coordinators: [service.status().id], done: [], current: null, failed: null, total: 3, restart_timeout_ms: 30_000 });
    expect(started.skipped).toEqual([{ id: 'n3', status: 'maintenance' }]);
    await caller.upgrade.step({ to: '0.1.7', id: 'n1', phase: 'restart' });
    const n1 = await caller.nodes.get({ id: 'n1' });
    expect(n1).toMatchObject({ status: 'restarting', restart: { version: '0.1.7' } });
    expect(n1.restart!.until_ms - n1.restart!.since_ms).toBe(30_000);
    expect((await caller.cluster.info()).upgrade).toMatchObject({ to: '0.1.7', state: 'running', current: 'n1', done: [] });
    await caller.upgrade.step({ to: '0.1.7', id: 'n1', phase: 'fail', reason: 'not back' });
    expect(await caller.upgrade.status()).toMatchObject({ state: 'failed', failed: { id: 'n1', reason: 'not back' } });
    expect((await caller.nodes.get({ id: 'n1' })).restart).toBeNull();
  });

  it('409 while one runs, nothing changed; 400 naming the field for bad input and for a version of another release line', async () => {
    const { service, caller } = await cluster();
    await caller.upgrade.start({ to: '0.1.7' });
    const hash = stateHash(service.state);
    const again = await failure(caller.upgrade.start({ to: '0.1.8' }));
    expect(again.trpcCode).toBe('CONFLICT');
    expect(again.error.message).toMatch(/an upgrade to 0\.1\.7 is running/);
    expect(stateHash(service.state)).toBe(hash);
    service.proposed.length = 0;
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => caller.upgrade.start({ to: '' }), /to/],
      [() => caller.upgrade.start({ to: '0.1.9', restartTimeoutMs: 5 }), /restartTimeoutMs/],
      [() => caller.upgrade.start({ to: '0.1.9', bogus: 1 } as never), /bogus/],
      [() => caller.upgrade.start({ to: '2.0.0' }), /to: 2\.0\.0 is not of the release line 0\.1/],
      [() => caller.upgrade.step({ to: '0.1.7', id: 'n1', phase: 'reboot' } as never), /phase/],
      [() => caller.upgrade.step({ to: '0.1.7', id: '../x', phase: 'done' }), /id/],
    ];
    for (const [call, field] of cases) {
      const { trpcCode, error } = await failure(call());
      expect(trpcCode, String(field)).toBe('BAD_REQUEST');
      expect(error.message).toMatch(field);
    }
    expect(service.proposed).toEqual([]);
    expect((await failure(caller.upgrade.step({ to: '0.1.7', id: 'n9', phase: 'restart' }))).trpcCode).toBe('NOT_FOUND');
  });

  it('REST: POST /cluster/upgrade, /cluster/upgrade/step and GET /cluster/upgrade map to the same operations', async () => {
    const { service } = await cluster();
    const server = await startServer(service);
    const started = await rawRequest(`${server.url}/cluster/upgrade`, 'POST', { to: '0.1.7' });
    expect(started).toMatchObject({ status: 200, body: { to: '0.1.7', state: 'running', nodes: ['n1', 'n2'] } });
    expect(await rawRequest(`${server.url}/cluster/upgrade`, 'POST', { to: '0.1.7' })).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    const bad = await rawRequest(`${server.url}/cluster/upgrade/step`, 'POST', { to: '0.1.7', id: 'n1' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/phase/);
    expect(await rawRequest(`${server.url}/cluster/upgrade/step`, 'POST', { to: '0.1.7', id: 'n1', phase: 'restart' })).toMatchObject({ status: 200, body: { current: 'n1' } });
    expect(await rawRequest(`${server.url}/cluster/upgrade`, 'GET')).toMatchObject({ status: 200, body: { current: 'n1' } });
    expect((await rawRequest(`${server.url}/nodes`, 'GET')).body.nodes[0]).toMatchObject({ id: 'n1', status: 'restarting' });
  });
});
