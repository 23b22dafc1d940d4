// Cluster-wide settings acknowledged by every node: the grant carries the version, the node reports the one it runs
// with its next renewal, the leader records it in the table (ackConfig), GET /cluster/config and /nodes show it, and
// PUT ?wait=true answers once every serving node runs it, or 504 naming the others.
import { describe, expect, it } from 'vitest';
import { createAppCaller } from '../../src/api/coordinator/index.js';
import { apply, stateHash } from '../../src/coordinator/routing/index.js';
import { ClusterErrorCode } from '../../src/errors/index.js';
import { createNoopMetrics, silentLogger } from '../../src/observability/index.js';
import { cmd, expectRejected, register, withNodes, applyOk, meta } from '../coordinator/routing/helpers.js';
import { FakeCoordinatorService, nodeControlFor } from './fake-service.js';
import { failure, rawRequest, startServer, waitFor } from './helpers.js';

async function cluster() {
  const service = new FakeCoordinatorService({ shards: 4 });
  const caller = createAppCaller({ service, nodeControl: nodeControlFor(service), logger: silentLogger, metrics: createNoopMetrics() });
  for (const id of ['n1', 'n2']) await caller.nodes.register({ id, address: `127.0.0.1:${id === 'n1' ? 8081 : 8082}`, identity: `id-${id}` });
  return { service, caller };
}

/** One renewal of `id` reporting `configVersion`; returns the version its grant carries. */
async function renew(caller: Awaited<ReturnType<typeof cluster>>['caller'], id: string, configVersion?: number): Promise<number | undefined> {
  const grant = await caller.nodes.renewLease({ id, identity: `id-${id}`, ...(configVersion === undefined ? {} : { configVersion }) });
  return grant.configVersion;
}

describe('ackConfig (the table)', () => {
  it('records the version a node runs; refuses a version not committed and an unknown node; a registration clears it', () => {
    let state = withNodes(['n1', 'n2']);
    state = applyOk(state, cmd('ackConfig', { nodeId: 'n1', version: 1 })).state;
    expect(state.nodes['n1']?.configVersion).toBe(1);
    expect(state.events.items.at(-1)).toMatchObject({ kind: 'node-updated', node: 'n1', message: 'n1 runs settings version 1' });
    const again = apply(state, cmd('ackConfig', { nodeId: 'n1', version: 1 }), meta());
    expect(again.state).toBe(state);
    expectRejected(state, cmd('ackConfig', { nodeId: 'n1', version: 2 }), 'STALE_VERSION', /version 2 does not exist/);
    expect(expectRejected(state, cmd('ackConfig', { nodeId: 'n9', version: 1 }), 'UNKNOWN_NODE').field).toBe('nodeId');
    expect(expectRejected(state, cmd('ackConfig', { nodeId: 'n1', version: 0 }), 'INVALID_COMMAND').field).toBe('version');
    state = applyOk(state, register('n1')).state;
    expect(state.nodes['n1']?.configVersion).toBeUndefined();
  });
});

describe('cluster config with acknowledgements', () => {
  it('the grant carries the version; the version a node reports is recorded once, and shown by GET /cluster/config and /nodes', async () => {
    const { service, caller } = await cluster();
    expect(await caller.admin.config()).toMatchObject({ version: 1, nodes: { n1: null, n2: null } });
    // A first renewal reports nothing (the node has taken no grant yet); the grant says version 1.
    expect(await renew(caller, 'n1')).toBe(1);
    expect(service.proposed.filter((c) => c.type === 'ackConfig')).toHaveLength(0);
    expect(await renew(caller, 'n1', 1)).toBe(1);
    await waitFor('n1 recorded at version 1', () => service.state.nodes['n1']?.configVersion === 1);
    // Renewals reporting the same version again propose nothing more.
    await renew(caller, 'n1', 1);
    await renew(caller, 'n1', 1);
    expect(service.proposed.filter((c) => c.type === 'ackConfig')).toHaveLength(1);
    expect(await caller.admin.config()).toMatchObject({ version: 1, nodes: { n1: 1, n2: null } });
    const nodes = (await caller.nodes.list()).nodes;
    expect(nodes.map((n) => [n.id, n.config_version])).toEqual([['n1', 1], ['n2', null]]);
    expect((await caller.nodes.get({ id: 'n1' })).config_version).toBe(1);
  });

  it('the replication ack timeout is a setting: changed at run time, the next grant carries it with the new version; out of range is 400 naming it', async () => {
    const { caller } = await cluster();
    expect(await caller.nodes.renewLease({ id: 'n1', identity: 'id-n1' })).toMatchObject({ configVersion: 1, replicaAckTimeoutMs: 1_000 });
    await caller.admin.updateConfig({ expectedVersion: 1, settings: { replication: { ackTimeoutMs: 250 } } });
    expect(await caller.nodes.renewLease({ id: 'n1', identity: 'id-n1' })).toMatchObject({ configVersion: 2, replicaAckTimeoutMs: 250 });
    const { error } = await failure(caller.admin.updateConfig({ expectedVersion: 2, settings: { replication: { ackTimeoutMs: 10 } } }));
    expect(error.code).toBe(ClusterErrorCode.InvalidInput);
    expect(error.message).toMatch(/replication\.ackTimeoutMs/);
  });

  it('?wait=true answers once every serving node runs the new version', async () => {
    const { caller } = await cluster();
    // Two nodes renewing as a data node does: each reports the version of the last grant it took.
    const ran: Record<string, number | undefined> = {};
    let stop = false;
    const renewing = (async () => {
      for (let i = 0; i < 2_000 && !stop; i++) {
        for (const id of ['n1', 'n2']) ran[id] = await renew(caller, id, ran[id]);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      const answer = await caller.admin.updateConfig({ expectedVersion: 1, settings: { maxValueBytes: 1024 }, wait: true, timeoutMs: 10_000 });
      expect(answer).toMatchObject({ version: 2, settings: { maxValueBytes: 1024 }, nodes: { n1: 2, n2: 2 } });
      expect(ran).toEqual({ n1: 2, n2: 2 });
    } finally {
      stop = true;
      await renewing;
    }
  });

  it('?wait=true answers 504 naming the nodes that do not run it, the change itself committed', async () => {
    const { service, caller } = await cluster();
    await renew(caller, 'n1', 1);
    await waitFor('n1 recorded at version 1', () => service.state.nodes['n1']?.configVersion === 1);
    const started = Date.now();
    const { trpcCode, error } = await failure(caller.admin.updateConfig({ expectedVersion: 1, settings: { maxValueBytes: 2048 }, wait: true, timeoutMs: 300 }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(trpcCode).toBe('GATEWAY_TIMEOUT');
    expect(error.type).toMatchObject({ code: ClusterErrorCode.Timeout });
    expect(error.message).toMatch(/version 2/);
    expect(error.message).toMatch(/n1 \(runs 1\), n2 \(runs none yet\)/);
    expect(service.state.config.version).toBe(2);
  });

  it('bad input is 400 naming the field, and nothing changes', async () => {
    const { service, caller } = await cluster();
    const hash = stateHash(service.state);
    const cases: [unknown, RegExp][] = [
      [{ expectedVersion: 1, settings: { maxValueBytes: 0 } }, /maxValueBytes/],
      [{ expectedVersion: 1, settings: { nope: 1 } }, /nope/],
      [{ expectedVersion: 1, settings: {}, wait: 'yes' }, /wait/],
      [{ expectedVersion: 1, settings: {}, timeoutMs: 500 }, /timeoutMs/],
      [{ expectedVersion: 1, settings: {}, wait: true, timeoutMs: 5 }, /timeoutMs/],
    ];
    for (const [input, field] of cases) {
      const { trpcCode, error } = await failure(caller.admin.updateConfig(input as never));
      expect(trpcCode).toBe('BAD_REQUEST');
      expect(error.message).toMatch(field);
    }
    expect(stateHash(service.state)).toBe(hash);
  });

  it('REST: PUT /cluster/config?wait=true&timeoutMs=N, a bad flag 400 naming it', async () => {
    const { service } = await cluster();
    const server = await startServer(service);
    const bad = await rawRequest(`${server.url}/cluster/config?wait=maybe`, 'PUT', { expectedVersion: 1, settings: { maxValueBytes: 4096 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/wait/);
    const twice = await rawRequest(`${server.url}/cluster/config?wait=true`, 'PUT', { expectedVersion: 1, settings: {}, wait: false });
    expect(twice.status).toBe(400);
    expect(service.state.config.version).toBe(1);
    const timedOut = await rawRequest(`${server.url}/cluster/config?wait=true&timeoutMs=200`, 'PUT', { expectedVersion: 1, settings: { maxValueBytes: 4096 } });
    expect(timedOut.status).toBe(504);
    expect(timedOut.body.error.message).toMatch(/missing n1 \(runs none yet\), n2 \(runs none yet\)/);
    const got = await rawRequest(`${server.url}/cluster/config`, 'GET');
    expect(got).toMatchObject({ status: 200, body: { version: 2, settings: { maxValueBytes: 4096 }, nodes: { n1: null, n2: null } } });
    const plain = await rawRequest(`${server.url}/cluster/config`, 'PUT', { expectedVersion: 2, settings: { maxValueBytes: 8192 } });
    expect(plain).toMatchObject({ status: 200, body: { version: 3 } });
  });
});
