import { describe, expect, it, vi } from 'vitest';
import { createAppCaller } from '../../src/api/coordinator/index.js';
import { LeaseKeeper } from '../../src/coordinator/leases/index.js';
import { driftMarginMs } from '../../src/coordinator/leases/lease-table.js';
import { Fencer } from '../../src/coordinator/placement-driver/fencing.js';
import { leaseGrant } from '../../src/api/coordinator/wire/lease-grant.js';
import { NodeControl } from '../../src/coordinator/node-control.js';
import type { NodeLink } from '../../src/coordinator/node-link.js';
import { ClusterError, ClusterErrorCode } from '../../src/errors/index.js';
import { createMemoryLogger, createNoopMetrics, silentLogger } from '../../src/observability/index.js';
import { FakeCoordinatorService, nodeControlFor, unreachableNodes } from './fake-service.js';
import { failure as callFailure, rawRequest, startServer } from './helpers.js';

const failure = async (call: Promise<unknown>): Promise<ClusterError> => (await callFailure(call)).error;
/** The ClusterError an in-process call rejected with. */
const refusal = (call: Promise<unknown>): Promise<ClusterError> =>
  call.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => {
      if (!(e instanceof ClusterError)) throw e;
      return e;
    },
  );

const handsOff: NodeLink = {
  handoff: async () => ({ lastSeq: 0 }),
  probe: async () => {
    throw new Error('no probes in this test');
  },
};

function callerFor(service: FakeCoordinatorService, nodeLink?: NodeLink) {
  return createAppCaller({ service, nodeControl: nodeControlFor(service, nodeLink), logger: silentLogger, metrics: createNoopMetrics() });
}

/** n1 (identity id-n1) and n2 (id-n2); shard 1 on n1 (primary) and n2, both in sync, at epoch 1. */
async function cluster(nodeLink?: NodeLink) {
  const service = new FakeCoordinatorService({ shards: 4 });
  const caller = callerFor(service, nodeLink);
  await caller.nodes.register({ id: 'n1', address: '127.0.0.1:8081', identity: 'id-n1' });
  await caller.nodes.register({ id: 'n2', address: '127.0.0.1:8082', identity: 'id-n2' });
  await caller.nodes.register({ id: 'n3', address: '127.0.0.1:8083', identity: 'id-n3' });
  await caller.shards.assign({ id: 1, primary: 'n1', replicas: ['n2'], expectedEpoch: 0 });
  return { service, caller };
}

describe('nodes.renewLease', () => {
  it('grants the lease with the node’s assignments and the addresses of the nodes they name', async () => {
    const { caller } = await cluster();
    expect(await caller.nodes.renewLease({ id: 'n1', identity: 'id-n1' })).toEqual({
      leaseMs: 1_000,
      leader: 'c1',
      term: 1,
      status: 'unknown',
      shardCount: 4,
      maxValueBytes: 16 * 1024 * 1024,
      replicaAckTimeoutMs: 1_000,
      configVersion: 1,
      shardEpochs: [0, 1, 0, 0],
      shards: [{ id: 1, epoch: 1, primary: 'n1', replicas: ['n2'], inSync: ['n1', 'n2'] }],
      addresses: { n1: '127.0.0.1:8081', n2: '127.0.0.1:8082' },
    });
    expect(await caller.nodes.renewLease({ id: 'n3', identity: 'id-n3' })).toMatchObject({ shards: [], addresses: {} });
  });

  it('after a restore: no lease until every node reported its copies, then the newer placement is taken from them in one command', async () => {
    const { service, caller } = await cluster();
    service.state = { ...service.state, restoring: { snapshotIndex: 9, snapshotHash: 'h9', sinceMs: 1 } };
    // Since the snapshot, shard 1 moved: n3 is primary at epoch 4, n2 its in-sync replica; n1 no longer holds it.
    const n3held = [{ shard: 1, epoch: 4, lastSeq: 20, primary: 'n3', inSync: true }];
    const first = await failure(caller.nodes.renewLease({ id: 'n3', identity: 'id-n3', holdings: n3held }));
    expect(first.type).toMatchObject({ code: ClusterErrorCode.Unavailable, reason: 'RESTORING' });
    expect(first.message).toMatch(/waiting for 2 node\(s\) to report what they hold \(n1, n2\)/);
    expect(service.state.shards[1]!.epoch).toBe(1);
    await failure(caller.nodes.renewLease({ id: 'n1', identity: 'id-n1', holdings: [] }));
    expect(service.state.restoring).toBeDefined();
    await failure(caller.nodes.renewLease({ id: 'n2', identity: 'id-n2', holdings: [{ shard: 1, epoch: 4, lastSeq: 20, primary: 'n3', inSync: true }] }));
    // The last report ends the window (proposed in the background).
    await vi.waitFor(() => expect(service.state.restoring).toBeUndefined());
    expect(service.state.shards[1]).toMatchObject({ epoch: 5, primary: 'n3', replicas: ['n2'], inSync: ['n2', 'n3'] });
    // n1's old copy of shard 1 is no longer listed: the table's epochs say whether it is older (it is dropped) or newer (kept).
    const stale = [{ shard: 1, epoch: 1, lastSeq: 3, primary: 'n1', inSync: true }];
    expect(await caller.nodes.renewLease({ id: 'n1', identity: 'id-n1', holdings: stale })).toMatchObject({ shards: [], shardEpochs: [0, 5, 0, 0] });
    // Holding nothing, it needs no epochs.
    expect(await caller.nodes.renewLease({ id: 'n1', identity: 'id-n1', holdings: [] })).not.toHaveProperty('shardEpochs');
  });

  it('a malformed holdings report is 400 naming the field', async () => {
    const { caller } = await cluster();
    const bad = await failure(caller.nodes.renewLease({ id: 'n1', identity: 'id-n1', holdings: [{ shard: 1, epoch: -1, lastSeq: 0, primary: null, inSync: true }] }));
    expect(bad.code).toBe(ClusterErrorCode.InvalidInput);
    expect(bad.message).toMatch(/holdings\[0\]\.epoch/);
  });

  it('refuses an unknown node (404), another identity (409 naming the id); a node that left gets an empty grant, another process claiming it 404', async () => {
    const { service, caller } = await cluster();
    expect((await failure(caller.nodes.renewLease({ id: 'n9', identity: 'x' }))).type).toMatchObject({ code: ClusterErrorCode.NotFound, resource: 'node', id: 'n9' });
    const conflict = await failure(caller.nodes.renewLease({ id: 'n1', identity: 'someone-else' }));
    expect(conflict.code).toBe(ClusterErrorCode.Conflict);
    expect(conflict.message).toMatch(/node n1 /);
    await service.propose({ type: 'setNodeStatus', atMs: 0, reason: 'test', nodeId: 'n3', status: 'left' });
    // Its own process learns that it left (what a draining node waits for), with no lease.
    expect(await caller.nodes.renewLease({ id: 'n3', identity: 'id-n3' })).toMatchObject({ status: 'left', leaseMs: 0, shards: [] });
    const left = await failure(caller.nodes.renewLease({ id: 'n3', identity: 'another' }));
    expect(left.code).toBe(ClusterErrorCode.NotFound);
    expect(left.message).toMatch(/left the cluster: register again/);
  });

  it('is the leader’s: a follower answers NOT_LEADER (when it does not forward), no quorum NO_QUORUM', async () => {
    const { service, caller } = await cluster();
    service.noQuorum = true;
    expect((await failure(caller.nodes.renewLease({ id: 'n1', identity: 'id-n1' }))).code).toBe(ClusterErrorCode.NoQuorum);
    service.noQuorum = false;
    service.followerOf('c2');
    expect((await failure(caller.nodes.renewLease({ id: 'n1', identity: 'id-n1' }))).type).toMatchObject({ code: ClusterErrorCode.NotLeader, leader: 'c2' });
  });

  it('refuses a malformed renewal with the field named', async () => {
    const { caller } = await cluster();
    const bad = await failure(caller.nodes.renewLease({ id: 'n1', identity: 'id-n1', recoveries: [{ shard: -1, copiedKeys: 0, totalKeys: null }] }));
    expect(bad.code).toBe(ClusterErrorCode.InvalidInput);
    expect(bad.message).toMatch(/recoveries\[0\]\.shard/);
  });

  it('records the grant from when the request was received, and drops it all when leadership is lost', async () => {
    const { service } = await cluster();
    const clock = { ms: 50_000, nowMs: () => clock.ms };
    const keeper = new LeaseKeeper({}, { service, clock });
    service.onRoleChange((c) => keeper.roleChanged(c));
    const M = driftMarginMs(1_000);
    expect(keeper.fencedAtMs('n1', 1_000)).toBe(51_000 + M);
    clock.ms = 50_600;
    await keeper.renew({ id: 'n1', identity: 'id-n1' });
    expect(keeper.fencedAtMs('n1', 1_000)).toBe(51_600 + M);
    service.followerOf('c2');
    expect(keeper.fencedAtMs('n1', 1_000)).toBe(Number.POSITIVE_INFINITY);
    clock.ms = 60_000;
    service.becomeLeader();
    expect(keeper.fencedAtMs('n1', 1_000)).toBe(61_000 + M);
  });

  it('a renewal whose ReadIndex is under way holds off a demotion decided meanwhile, by the lease it may become', async () => {
    const { service } = await cluster();
    const clock = { ms: 50_000, nowMs: () => clock.ms };
    const keeper = new LeaseKeeper({}, { service, clock });
    const M = driftMarginMs(1_000);
    await keeper.renew({ id: 'n1', identity: 'id-n1' });
    let open!: () => void;
    service.readGate = new Promise<void>((r) => (open = r));
    clock.ms = 50_900;
    const renewing = keeper.renew({ id: 'n1', identity: 'id-n1' });
    await new Promise((r) => setImmediate(r));
    clock.ms = 51_100;
    // The last grant (50 000 + lease) is over, but the one being checked counts from 50 900.
    expect(keeper.fencedAtMs('n1', 1_000)).toBe(51_900 + M);
    open();
    service.readGate = undefined;
    await renewing;
    expect(keeper.fencedAtMs('n1', 1_000)).toBe(51_900 + M);
  });

  it('a node whose lease ran out for a demotion gets no lease until the demotion committed, then one without the shard it lost', async () => {
    const { service } = await cluster();
    const clock = { ms: 50_000, nowMs: () => clock.ms };
    const keeper = new LeaseKeeper({}, { service, clock });
    const fencer = new Fencer({}, { leases: keeper, nodeLink: unreachableNodes, logger: silentLogger, clock });
    await keeper.renew({ id: 'n1', identity: 'id-n1' });
    clock.ms = 51_100;
    const epoch = service.state.shards[1]!.epoch;
    expect(await fencer.fence(service.state, 'n1', 1, epoch)).toMatchObject({ fenced: true });
    // A renewal (direct, or relayed by a follower) read before the promotion commits: refused, not granted on the old table.
    const refused = await refusal(keeper.renew({ id: 'n1', identity: 'id-n1' }));
    expect(refused.type).toMatchObject({ code: ClusterErrorCode.Unavailable, reason: 'DEMOTION_PENDING' });
    expect(keeper.fencedAtMs('n1', 1_000)).toBeLessThanOrEqual(clock.ms);
    expect(await service.propose({ type: 'promotePrimary', atMs: 0, reason: 'n1 failed', shardId: 1, expectedEpoch: epoch, nodeId: 'n2' })).toMatchObject({ ok: true });
    // Arriving after the demotion: granted on the new table, where n1 is no longer the primary.
    const grant = leaseGrant(await keeper.renew({ id: 'n1', identity: 'id-n1' }));
    const shard1 = grant.shards.find((s) => s.id === 1);
    expect(shard1 === undefined || (shard1.primary === 'n2' && shard1.epoch > epoch)).toBe(true);
    expect(grant.shards.some((s) => s.primary === 'n1' && s.id === 1)).toBe(false);
  });

  it('a demotion step that was refused releases the node: it is granted again', async () => {
    const { service } = await cluster();
    const clock = { ms: 50_000, nowMs: () => clock.ms };
    const keeper = new LeaseKeeper({}, { service, clock });
    const fencer = new Fencer({}, { leases: keeper, nodeLink: unreachableNodes, logger: silentLogger, clock });
    clock.ms = 52_000;
    const epoch = service.state.shards[1]!.epoch;
    expect(await fencer.fence(service.state, 'n1', 1, epoch)).toMatchObject({ fenced: true });
    expect((await refusal(keeper.renew({ id: 'n1', identity: 'id-n1' }))).type).toMatchObject({ reason: 'DEMOTION_PENDING' });
    // Other nodes are not held up.
    expect(await keeper.renew({ id: 'n2', identity: 'id-n2' })).toMatchObject({ leaseMs: 1_000 });
    fencer.release('n1', 1, epoch);
    expect(leaseGrant(await keeper.renew({ id: 'n1', identity: 'id-n1' })).shards.find((s) => s.id === 1)).toMatchObject({ primary: 'n1', epoch });
  });

  it('a batch a follower relayed: one leadership check, each renewal answered on its own, every grant counted from the batch’s arrival', async () => {
    const { service } = await cluster();
    const clock = { ms: 50_000, nowMs: () => clock.ms };
    const keeper = new LeaseKeeper({}, { service, clock });
    const fencer = new Fencer({}, { leases: keeper, nodeLink: unreachableNodes, logger: silentLogger, clock });
    const M = driftMarginMs(1_000);
    clock.ms = 52_000;
    const epoch = service.state.shards[1]!.epoch;
    expect(await fencer.fence(service.state, 'n1', 1, epoch)).toMatchObject({ fenced: true });
    let reads = 0;
    const read = service.read.bind(service);
    service.read = async (consistency, timeoutMs) => {
      if (consistency === 'linearizable') reads++;
      return read(consistency, timeoutMs);
    };
    let open!: () => void;
    service.readGate = new Promise<void>((r) => (open = r));
    const answers = keeper.renewMany([
      { id: 'n2', identity: 'id-n2' },
      { id: 'n9', identity: 'x' },
      { id: 'n1', identity: 'id-n1' },
      { id: 'n3', identity: 'other' },
      { id: 'n3', identity: 'id-n3' },
    ]);
    await new Promise((r) => setImmediate(r));
    // The batch is being checked: its renewals count already, from when it arrived.
    clock.ms = 52_400;
    expect(keeper.fencedAtMs('n2', 1_000)).toBe(53_000 + M);
    open();
    service.readGate = undefined;
    const [n2, n9, n1, conflict, n3] = await answers;
    expect(reads).toBe(1);
    expect(n2).toMatchObject({ leaseMs: 1_000, leader: 'c1', node: { id: 'n2' } });
    expect(n3).toMatchObject({ leaseMs: 1_000, node: { id: 'n3' } });
    expect(n9).toBeInstanceOf(ClusterError);
    expect((n9 as ClusterError).type).toMatchObject({ code: ClusterErrorCode.NotFound });
    expect((n1 as ClusterError).type).toMatchObject({ code: ClusterErrorCode.Unavailable, reason: 'DEMOTION_PENDING' });
    expect((conflict as ClusterError).type).toMatchObject({ code: ClusterErrorCode.Conflict });
    // Granted from the batch's arrival (52 000), not from when the read came back.
    expect(keeper.fencedAtMs('n2', 1_000)).toBe(53_000 + M);
    expect(keeper.fencedAtMs('n3', 1_000)).toBe(53_000 + M);
    // A follower's batch is refused whole: NOT_LEADER, nothing granted.
    service.followerOf('c2');
    await expect(keeper.renewMany([{ id: 'n2', identity: 'id-n2' }])).rejects.toMatchObject({ code: ClusterErrorCode.NotLeader });
  });

  it('shows the progress a recovering node reports in shards.list', async () => {
    const { caller } = await cluster();
    await caller.shards.assign({ id: 1, primary: 'n1', replicas: ['n2', 'n3'], expectedEpoch: 1 });
    await caller.nodes.renewLease({ id: 'n3', identity: 'id-n3', recoveries: [{ shard: 1, copiedKeys: 5, totalKeys: 20 }] });
    const { shards } = await caller.shards.list();
    expect(shards[1]!.recovery).toEqual({ node: 'n3', copied_keys: 5, total_keys: 20 });
    expect(shards[0]!.recovery).toBeNull();
  });
});

describe('shards.setInSync', () => {
  it('answers the new epoch, compare-and-set on the epoch', async () => {
    const { caller } = await cluster();
    expect(await caller.shards.setInSync({ id: 1, nodeId: 'n2', inSync: false, expectedEpoch: 1, reason: 'n2 lags' })).toEqual({ epoch: 2 });
    const stale = await failure(caller.shards.setInSync({ id: 1, nodeId: 'n2', inSync: true, expectedEpoch: 1 }));
    expect(stale.type).toEqual({ code: ClusterErrorCode.StaleEpoch, shard: 1, expectedEpoch: 1, currentEpoch: 2 });
    expect(await caller.shards.setInSync({ id: 1, nodeId: 'n2', inSync: true, expectedEpoch: 2 })).toEqual({ epoch: 3 });
    // Already so: nothing changes, the epoch stays.
    expect(await caller.shards.setInSync({ id: 1, nodeId: 'n2', inSync: true, expectedEpoch: 3 })).toEqual({ epoch: 3 });
    expect((await failure(caller.shards.setInSync({ id: 1, nodeId: 'n3', inSync: true, expectedEpoch: 3 }))).type).toEqual({ code: ClusterErrorCode.Conflict, reason: 'NOT_A_COPY' });
  });
});

describe('nodes.drain and nodes.remove', () => {
  it('drain marks the node draining; an unknown node is 404', async () => {
    const { service, caller } = await cluster();
    expect(await caller.nodes.drain({ id: 'n2', reason: 'shutting down' })).toMatchObject({ id: 'n2', status: 'draining', status_reason: 'shutting down' });
    expect(service.proposed.at(-1)).toMatchObject({ type: 'setNodeStatus', nodeId: 'n2', status: 'draining' });
    expect((await failure(caller.nodes.drain({ id: 'n9' }))).code).toBe(ClusterErrorCode.NotFound);
  });

  it('remove hands the node’s primaries to in-sync replicas, drops its copies and deletes it', async () => {
    const { service, caller } = await cluster(handsOff);
    await caller.shards.assign({ id: 2, primary: 'n2', replicas: ['n1'], expectedEpoch: 0 });
    const removed = await caller.nodes.remove({ id: 'n1', reason: 'disk died' });
    expect(removed).toMatchObject({ id: 'n1', status: 'draining', shard_count: 0 });
    expect(service.state.nodes['n1']).toBeUndefined();
    expect(service.state.shards[1]).toMatchObject({ primary: 'n2', replicas: [] });
    expect(service.state.shards[2]).toMatchObject({ primary: 'n2', replicas: [] });
    expect(service.proposed.slice(-5).map((c) => c.type)).toEqual(['setNodeStatus', 'promotePrimary', 'moveShard', 'moveShard', 'removeNode']);
  });

  it('remove waits for the lease of a primary that does not answer the handoff', async () => {
    const { service } = await cluster();
    const settings = { health: { probeIntervalMs: 20, probeTimeoutMs: 10, leaseMs: 100 } };
    expect(await service.propose({ type: 'updateSettings', atMs: 0, reason: 'short leases', expectedVersion: 1, settings })).toMatchObject({ ok: true });
    const logger = createMemoryLogger('info');
    const nodeControl = new NodeControl({ placement: false }, { service, nodeLink: unreachableNodes, logger });
    const caller = createAppCaller({ service, nodeControl, logger: silentLogger, metrics: createNoopMetrics() });
    // n1 holds a lease granted just now: it is fenced only when that runs out.
    await caller.nodes.renewLease({ id: 'n1', identity: 'id-n1' });
    expect(await caller.nodes.remove({ id: 'n1' })).toMatchObject({ id: 'n1' });
    expect(service.state.shards[1]).toMatchObject({ primary: 'n2', replicas: [] });
    expect(service.state.nodes['n1']).toBeUndefined();
    const lines = logger.records.map((r) => `${r.msg}: ${String(r.fields['why'] ?? r.fields['how'] ?? '')}`);
    expect(lines).toContainEqual(expect.stringMatching(/^forced removal waits for the primary to be fenced: handoff to n1 failed/));
    expect(lines).toContainEqual('primary fenced: the lease of n1 has run out');
  });

  it('remove refuses to lose a shard’s last in-sync copy (409) and runs on the leader only', async () => {
    const { service, caller } = await cluster(handsOff);
    await caller.shards.assign({ id: 0, primary: 'n3', replicas: [], expectedEpoch: 0 });
    const conflict = await failure(caller.nodes.remove({ id: 'n3' }));
    expect(conflict.type).toEqual({ code: ClusterErrorCode.Conflict, reason: 'LAST_COPY' });
    expect(conflict.message).toMatch(/shard 0/);
    expect(service.state.nodes['n3']).toBeDefined();
    service.followerOf('c2');
    expect((await failure(caller.nodes.remove({ id: 'n2' }))).code).toBe(ClusterErrorCode.NotLeader);
  });

  it('REST: POST /nodes/:id/drain and /nodes/:id/remove call the same procedures', async () => {
    const service = new FakeCoordinatorService({ shards: 2 });
    const server = await startServer(service);
    expect((await rawRequest(`${server.url}/register`, 'POST', { id: 'n1', address: '127.0.0.1:8081' })).status).toBe(200);
    expect(await rawRequest(`${server.url}/nodes/n1/drain`, 'POST', { reason: 'maintenance' })).toMatchObject({ status: 200, body: { id: 'n1', status: 'draining' } });
    expect(await rawRequest(`${server.url}/nodes/n1/remove`, 'POST', {})).toMatchObject({ status: 200, body: { id: 'n1' } });
    expect(await rawRequest(`${server.url}/nodes/n1/info`, 'GET')).toMatchObject({ status: 404 });
    expect(await rawRequest(`${server.url}/nodes/n9/drain`, 'POST', { id: 'n9' })).toMatchObject({ status: 400 });
  });
});
