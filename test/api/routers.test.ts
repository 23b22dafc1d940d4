import { describe, expect, it } from 'vitest';
import { createAppCaller, type ApiContext } from '../../src/api/coordinator/index.js';
import { ClusterError, ClusterErrorCode, isClusterError } from '../../src/errors/index.js';
import { createNoopMetrics, silentLogger } from '../../src/observability/index.js';
import { FakeCoordinatorService, nodeControlFor, registerCommand } from './fake-service.js';
import { failure } from './helpers.js';

function callerFor(service: FakeCoordinatorService, extra: Partial<ApiContext> = {}) {
  return createAppCaller({ service, nodeControl: nodeControlFor(service), logger: silentLogger, metrics: createNoopMetrics(), ...extra });
}

describe('cluster router', () => {
  it('health is the replica’s own status in the REST field names', async () => {
    const service = new FakeCoordinatorService();
    const health = await callerFor(service).cluster.health();
    expect(health).toMatchObject({ status: 'ok', id: 'c1', role: 'leader', leader: 'c1', term: 1, commit_index: 0, applied_index: 0, state_hash: 'hash-0' });
    expect(health.uptime_ms).toBeGreaterThanOrEqual(5_000);
    service.leaderless();
    expect(await callerFor(service).cluster.health()).toMatchObject({ status: 'no_leader', leader: null });
  });

  it('info counts nodes and shards and colours the cluster', async () => {
    const service = new FakeCoordinatorService({ shards: 2 });
    const caller = callerFor(service);
    expect(await caller.cluster.info()).toMatchObject({
      cluster_id: 'torua-test',
      coordinator_version: '0.1.0-test',
      leader: 'c1',
      total_nodes: 0,
      total_shards: 2,
      assigned_shards: 0,
      cluster_state: 'red',
      consistency: 'linearizable',
      staleness_ms: 0,
    });
    await caller.nodes.register({ id: 'n1', address: '127.0.0.1:8081' });
    await caller.nodes.register({ id: 'n2', address: '127.0.0.1:8082' });
    await caller.shards.assign({ id: 0, primary: 'n1', replicas: ['n2'], expectedEpoch: 0 });
    await caller.shards.assign({ id: 1, primary: 'n2', replicas: ['n1'], expectedEpoch: 0 });
    expect(await caller.cluster.info()).toMatchObject({ total_nodes: 2, healthy_nodes: 0, assigned_shards: 2, cluster_state: 'green', cluster_state_reasons: [] });
    // A restored cluster that has not heard its nodes yet is red, and says why.
    service.state = { ...service.state, restoring: { snapshotIndex: 12, snapshotHash: 'h', sinceMs: 0 } };
    const restoring = await caller.cluster.info();
    expect(restoring.cluster_state).toBe('red');
    expect(restoring.cluster_state_reasons[0]).toMatch(/^recovering from a restored snapshot \(index 12\): no lease/);
  });

  it('a stale read answers without a quorum and says how stale; a linearizable one refuses with NO_QUORUM', async () => {
    const service = new FakeCoordinatorService().followerOf('c2');
    service.noQuorum = true;
    const caller = callerFor(service);
    expect(await caller.cluster.info({ consistency: 'stale' })).toMatchObject({ consistency: 'stale', staleness_ms: 250, leader: 'c2' });
    const { trpcCode, error } = await failure(caller.cluster.info());
    expect(trpcCode).toBe('SERVICE_UNAVAILABLE');
    expect(error.code).toBe(ClusterErrorCode.NoQuorum);
  });
});

describe('nodes router', () => {
  it('registers a node with defaults, and a re-registration keeps what it leaves out', async () => {
    const service = new FakeCoordinatorService();
    const caller = callerFor(service);
    const node = await caller.nodes.register({ id: 'n1', address: '127.0.0.1:8081', capacity: 4, version: '0.1.0', labels: { zone: 'a' } });
    expect(node).toMatchObject({ id: 'n1', address: '127.0.0.1:8081', status: 'unknown', capacity: 4, shard_count: 0, available_capacity: 4, labels: { zone: 'a' } });
    const again = await caller.nodes.register({ id: 'n1', address: '127.0.0.1:9091' });
    expect(again).toMatchObject({ address: '127.0.0.1:9091', capacity: 4, version: '0.1.0', labels: { zone: 'a' } });
    expect(await caller.nodes.register({ id: 'n2', address: '127.0.0.1:8082' })).toMatchObject({ capacity: 16, version: '' });
    // One command per write: nothing is ever half applied.
    expect(service.proposed.map((c) => c.type)).toEqual(['registerNode', 'registerNode', 'registerNode']);
  });

  it('re-registers a node that has an identity only with that identity; nothing changes otherwise', async () => {
    const service = new FakeCoordinatorService();
    const caller = callerFor(service);
    await caller.nodes.register({ id: 'n1', address: '127.0.0.1:8081', identity: 'a'.repeat(32) });
    for (const attempt of [{}, { identity: 'b'.repeat(32) }]) {
      const { trpcCode, error } = await failure(caller.nodes.register({ id: 'n1', address: '127.0.0.99:1', ...attempt }));
      expect(trpcCode).toBe('CONFLICT');
      expect(error.message).toMatch(/needs the same identity/);
    }
    expect(service.proposed.map((c) => c.type)).toEqual(['registerNode']);
    expect(await caller.nodes.get({ id: 'n1' })).toMatchObject({ address: '127.0.0.1:8081' });
    expect(await caller.nodes.register({ id: 'n1', address: '127.0.0.1:8091', identity: 'a'.repeat(32) })).toMatchObject({ address: '127.0.0.1:8091' });
  });

  it('replaces labels, lists and gets nodes, and 404s an unknown one', async () => {
    const service = new FakeCoordinatorService();
    const caller = callerFor(service);
    await caller.nodes.register({ id: 'n1', address: '127.0.0.1:8081' });
    expect(await caller.nodes.setLabels({ id: 'n1', labels: { rack: 'r1' } })).toMatchObject({ labels: { rack: 'r1' } });
    const list = await caller.nodes.list({ consistency: 'stale' });
    expect(list.nodes.map((n) => n.id)).toEqual(['n1']);
    expect(list).toMatchObject({ consistency: 'stale', applied_index: 2 });
    expect(await caller.nodes.get({ id: 'n1' })).toMatchObject({ id: 'n1', shards: [] });
    const missing = await failure(caller.nodes.get({ id: 'n9' }));
    expect(missing.error.type).toMatchObject({ code: ClusterErrorCode.NotFound, resource: 'node', id: 'n9' });
    const labels = await failure(caller.nodes.setLabels({ id: 'n9', labels: {} }));
    expect(labels.error.type).toMatchObject({ code: ClusterErrorCode.NotFound, resource: 'node', id: 'n9' });
  });
});

describe('shards router', () => {
  async function withNodes() {
    const service = new FakeCoordinatorService({ shards: 4 });
    for (const id of ['n1', 'n2', 'n3']) await service.propose(registerCommand(id));
    return { service, caller: callerFor(service) };
  }

  it('assigns a shard without copies with assignShard, and moves one that has copies with moveShard', async () => {
    const { service, caller } = await withNodes();
    expect(await caller.shards.assign({ id: 1, primary: 'n1', replicas: ['n2'], expectedEpoch: 0 })).toEqual({
      id: 1,
      primary: 'n1',
      replicas: ['n2'],
      in_sync: ['n1', 'n2'],
      epoch: 1,
      state: 'active',
      recovery: null,
    });
    expect(await caller.shards.assign({ id: 1, primary: 'n1', replicas: ['n3'], expectedEpoch: 1 })).toMatchObject({ replicas: ['n3'], in_sync: ['n1'], epoch: 2, state: 'recovering' });
    expect(service.proposed.slice(-2).map((c) => c.type)).toEqual(['assignShard', 'moveShard']);
    const list = await caller.shards.list();
    expect(list.shards).toHaveLength(4);
  });

  it('refuses a stale epoch with both epochs, an unknown shard or node with 404, and a bad placement with 409', async () => {
    const { caller } = await withNodes();
    await caller.shards.assign({ id: 0, primary: 'n1', replicas: [], expectedEpoch: 0 });
    const stale = await failure(caller.shards.assign({ id: 0, primary: 'n2', replicas: [], expectedEpoch: 0 }));
    expect(stale.trpcCode).toBe('CONFLICT');
    expect(stale.error.type).toEqual({ code: ClusterErrorCode.StaleEpoch, shard: 0, expectedEpoch: 0, currentEpoch: 1 });
    expect((await failure(caller.shards.assign({ id: 99, primary: 'n1', replicas: [], expectedEpoch: 0 }))).error.type).toMatchObject({ code: ClusterErrorCode.NotFound, resource: 'shard' });
    expect((await failure(caller.shards.assign({ id: 1, primary: 'n7', replicas: [], expectedEpoch: 0 }))).error.code).toBe(ClusterErrorCode.NotFound);
    // n2 is not an in-sync copy of shard 0: only one can be primary.
    const conflict = await failure(caller.shards.assign({ id: 0, primary: 'n2', replicas: ['n1'], expectedEpoch: 1 }));
    expect(conflict.error.type).toEqual({ code: ClusterErrorCode.Conflict, reason: 'NOT_IN_SYNC' });
    const noPrimary = await failure(caller.shards.assign({ id: 2, primary: null, replicas: ['n1'], expectedEpoch: 0 }));
    expect(noPrimary.error.message).toMatch(/^primary: /);
  });
});

describe('admin router', () => {
  it('changes settings with a compare-and-set on their version', async () => {
    const service = new FakeCoordinatorService();
    const caller = callerFor(service);
    const before = await caller.admin.config();
    expect(before.version).toBe(1);
    const after = await caller.admin.updateConfig({ expectedVersion: 1, settings: { replicationFactor: 3, health: { probeIntervalMs: 300 } } });
    expect(after.version).toBe(2);
    expect(after.settings.replicationFactor).toBe(3);
    expect(after.settings.health.probeIntervalMs).toBe(300);
    expect(after.settings.health.probeTimeoutMs).toBe(before.settings.health.probeTimeoutMs);
    const stale = await failure(caller.admin.updateConfig({ expectedVersion: 1, settings: { replicationFactor: 2 } }));
    expect(stale.error.type).toEqual({ code: ClusterErrorCode.Conflict, reason: 'STALE_VERSION' });
    // Valid alone, refused merged: the probe timeout would exceed the interval.
    const invalid = await failure(caller.admin.updateConfig({ expectedVersion: 2, settings: { health: { probeTimeoutMs: 400 } } }));
    expect(invalid.trpcCode).toBe('BAD_REQUEST');
    expect(invalid.error.message).toContain('probeTimeoutMs');
  });
});

describe('members router', () => {
  it('lists, adds, removes and transfers on the leader', async () => {
    const service = new FakeCoordinatorService();
    const caller = callerFor(service);
    expect((await caller.members.list()).members).toEqual([
      expect.objectContaining({ id: 'c1', host: '127.0.0.1', api_port: 7001, peer_port: 7101, role: 'leader', last_contact_ms: 0, last_contact: '0ms' }),
    ]);
    expect(await caller.members.add({ id: 'c4', host: '127.0.0.14', apiPort: 7004, peerPort: 7104 })).toEqual({
      member: { id: 'c4', host: '127.0.0.14', api_port: 7004, peer_port: 7104 },
    });
    expect((await caller.members.list()).members.map((m) => m.id)).toEqual(['c1', 'c4']);
    expect(await caller.members.remove({ id: 'c4' })).toEqual({ removed: 'c4' });
    expect(await caller.members.transferLeader({ to: 'c1' })).toEqual({ leader: 'c1' });
    expect(service.state.events.items.map((e) => e.kind)).toEqual(['member-added', 'member-promoted', 'member-removed']);
  });

  it('on a follower that may not forward: NOT_LEADER with the leader’s address; with no leader known: NO_LEADER', async () => {
    const service = new FakeCoordinatorService().followerOf('c2', '127.0.0.12:7002');
    const notLeader = await failure(callerFor(service).members.remove({ id: 'c3' }));
    expect(notLeader.trpcCode).toBe('PRECONDITION_FAILED');
    expect(notLeader.error.type).toMatchObject({ code: ClusterErrorCode.NotLeader, leader: 'c2', leaderAddress: '127.0.0.12:7002' });
    service.leaderless();
    const noLeader = await failure(callerFor(service).members.add({ id: 'c4', host: '127.0.0.14', apiPort: 7004, peerPort: 7104 }));
    expect(noLeader.trpcCode).toBe('SERVICE_UNAVAILABLE');
    expect(noLeader.error.code).toBe(ClusterErrorCode.NoLeader);
  });
});

describe('input validation', () => {
  const caller = () => callerFor(new FakeCoordinatorService());
  const issuesOf = async (call: Promise<unknown>) => {
    const { trpcCode, error } = await failure(call);
    expect(trpcCode).toBe('BAD_REQUEST');
    expect(error.code).toBe(ClusterErrorCode.InvalidInput);
    return isClusterError(error, ClusterErrorCode.InvalidInput) ? error.type.issues : undefined;
  };
  const bad = <T,>(v: unknown) => v as T;

  it('names the field of a wrong type, a missing field, an unknown key and a bad value', async () => {
    expect(await issuesOf(caller().members.add(bad({ id: 'c4', host: '127.0.0.14', apiPort: '7004', peerPort: 7104 })))).toEqual([
      'apiPort: expected an integer from 1 to 65535, got "7004"',
    ]);
    expect(await issuesOf(caller().members.add(bad({ id: 'c4', host: '127.0.0.14', apiPort: 7004 })))).toEqual([
      'peerPort: expected an integer from 1 to 65535, but it is missing',
    ]);
    const unknown = await issuesOf(caller().nodes.register(bad({ id: 'n1', address: '127.0.0.1:8081', zone: 'a' })));
    expect(unknown).toHaveLength(1);
    expect(unknown?.[0]).toMatch(/^zone: unknown key \(the keys here are id, address, /);
    expect(await issuesOf(caller().nodes.register(bad({ id: 'n 1', address: 'nowhere' })))).toEqual([
      'id: expected 1–64 letters, digits, "_" or "-", starting with a letter or digit, got "n 1"',
      'address: expected host:port, e.g. 127.0.0.1:8081, got "nowhere"',
    ]);
    expect(await issuesOf(caller().cluster.info(bad({ consistency: 'eventual' })))).toEqual(['consistency: expected "linearizable" or "stale", got "eventual"']);
    expect(await issuesOf(caller().nodes.setLabels(bad('n1')))).toEqual(['input: expected an object, got "n1"']);
  });
});

describe('errors of the service', () => {
  it('pass through with their code: TIMEOUT of a proposal, NO_QUORUM of a read', async () => {
    const service = new FakeCoordinatorService();
    service.timesOut = true;
    const timeout = await failure(callerFor(service).nodes.register({ id: 'n1', address: '127.0.0.1:8081' }));
    expect(timeout.trpcCode).toBe('GATEWAY_TIMEOUT');
    expect(timeout.error.code).toBe(ClusterErrorCode.Timeout);
  });
});

describe('events router', () => {
  it('pages with since and says where the ring stands', async () => {
    const service = new FakeCoordinatorService();
    for (const id of ['n1', 'n2', 'n3']) await service.propose(registerCommand(id));
    const caller = callerFor(service);
    const all = await caller.events.list();
    expect(all.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(all.events[0]).toMatchObject({ kind: 'node-registered', node: 'n1', index: 1, term: 1, reason: 'test' });
    expect(all.events[0]?.time).toBe(new Date(all.events[0]?.time_ms ?? 0).toISOString());
    expect(all).toMatchObject({ last_seq: 3, oldest_seq: 1 });
    expect((await caller.events.list({ since: 2 })).events.map((e) => e.seq)).toEqual([3]);
  });

  it('subscribe yields the backlog after `since`, then live events, tracked by seq, and detaches when aborted', async () => {
    const service = new FakeCoordinatorService();
    await service.propose(registerCommand('n1'));
    await service.propose(registerCommand('n2'));
    const abort = new AbortController();
    const stream = await createAppCaller({ service, nodeControl: nodeControlFor(service), logger: silentLogger, metrics: createNoopMetrics() }, { signal: abort.signal }).events.subscribe({ since: 1 });
    // A server-side caller gets tRPC's tracked envelopes ([id, data, marker]) as yielded; only clients see {id, data}.
    const iterator = (stream as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toEqual(['2', expect.objectContaining({ seq: 2, node: 'n2' }), expect.anything()]);
    const live = iterator.next();
    await service.propose(registerCommand('n3'));
    expect(((await live).value as unknown[])[1]).toMatchObject({ seq: 3, node: 'n3' });
    expect(service.listenerCount).toBe(1);
    const ended = iterator.next();
    abort.abort();
    expect((await ended).done).toBe(true);
    expect(service.listenerCount).toBe(0);
  });
});
