// The cluster state of /cluster/info (and its torua_cluster_state gauge): green/yellow/red with reasons, worst first, "no quorum" included.
import { describe, expect, it } from 'vitest';
import { createAppCaller } from '../../src/api/coordinator/index.js';
import { NodeControl } from '../../src/coordinator/node-control.js';
import type { Command } from '../../src/coordinator/routing/index.js';
import { ClusterErrorCode } from '../../src/errors/index.js';
import { createMetrics, createNoopMetrics, silentLogger } from '../../src/observability/index.js';
import { FakeCoordinatorService, nodeControlFor, registerCommand, unreachableNodes } from './fake-service.js';
import { failure, startServer } from './helpers.js';

const assign = (shardId: number, primary: string, replicas: string[]): Command => ({ type: 'assignShard', atMs: 0, reason: 'test', shardId, expectedEpoch: 0, primary, replicas });
const status = (nodeId: string, to: 'healthy' | 'unhealthy'): Command =>
  to === 'unhealthy'
    ? { type: 'setNodeStatus', atMs: 0, reason: 'test', nodeId, status: to, confirmedBy: ['c1', 'c2'], voters: 3 }
    : { type: 'setNodeStatus', atMs: 0, reason: 'test', nodeId, status: to };

/** Shard 0 on n1 + n2, shard 1 on n2 alone (a copy missing), every node healthy. */
async function placed(): Promise<FakeCoordinatorService> {
  const service = new FakeCoordinatorService({ shards: 2 });
  for (const id of ['n1', 'n2', 'n3']) {
    await service.propose(registerCommand(id));
    await service.propose(status(id, 'healthy'));
  }
  await service.propose(assign(0, 'n1', ['n2']));
  await service.propose(assign(1, 'n2', []));
  return service;
}

/** A NodeControl whose health monitor holds a failure decision back. */
class StormGuarded extends NodeControl {
  override healthReasons(): string[] {
    return ['storm guard: 2 of 3 nodes failing, deciding would leave 1 of 3 healthy (< 50%)'];
  }
}

const callerFor = (service: FakeCoordinatorService, nodeControl: NodeControl = nodeControlFor(service)) =>
  createAppCaller({ service, nodeControl, logger: silentLogger, metrics: createNoopMetrics() });

describe('cluster state in /cluster/info', () => {
  it('yellow with the missing copy named; red, worst first, when a primary is on an unhealthy node', async () => {
    const service = await placed();
    const caller = callerFor(service);
    expect(await caller.cluster.info()).toMatchObject({ cluster_state: 'yellow', cluster_state_reasons: ['shard 1 has 1 of 2 copies'] });
    await service.propose(status('n1', 'unhealthy'));
    const info = await caller.cluster.info();
    expect(info.cluster_state).toBe('red');
    expect(info.cluster_state_reasons).toEqual(['shard 0: primary n1 is unhealthy', 'shard 1 has 1 of 2 copies']);
  });

  it('a replica without a quorum: the stale info says red and why, first; the linearizable one stays 503 NO_QUORUM', async () => {
    const service = (await placed()).followerOf('c2');
    service.noQuorum = true;
    const caller = callerFor(service);
    const info = await caller.cluster.info({ consistency: 'stale' });
    expect(info).toMatchObject({ cluster_state: 'red', consistency: 'stale', leader: 'c2' });
    expect(info.cluster_state_reasons[0]).toMatch(/^no quorum: this replica cannot serve a linearizable read \(.*no quorum reachable\); its table is 250 ms old$/);
    expect(info.cluster_state_reasons.slice(1)).toEqual(['shard 1 has 1 of 2 copies']);
    const { error } = await failure(caller.cluster.info());
    expect(error.code).toBe(ClusterErrorCode.NoQuorum);
  });

  it('with a quorum, the stale info has no such reason', async () => {
    const service = (await placed()).followerOf('c2');
    expect((await callerFor(service).cluster.info({ consistency: 'stale' })).cluster_state_reasons).toEqual(['shard 1 has 1 of 2 copies']);
  });

  it('the health monitor’s reasons make it red on the leader, after the replica’s own and before the table’s', async () => {
    const service = await placed();
    const nodeControl = new StormGuarded({ placement: false }, { service, nodeLink: unreachableNodes, logger: silentLogger });
    const info = await callerFor(service, nodeControl).cluster.info();
    expect(info.cluster_state).toBe('red');
    expect(info.cluster_state_reasons).toEqual(['storm guard: 2 of 3 nodes failing, deciding would leave 1 of 3 healthy (< 50%)', 'shard 1 has 1 of 2 copies']);
    await nodeControl.close();
  });

  it('REST answers the same, and the torua_cluster_state gauge follows the table', async () => {
    const service = (await placed()).followerOf('c2');
    service.noQuorum = true;
    const metrics = createMetrics({ processMetrics: false });
    const server = await startServer(service, { metrics });
    const res = await fetch(`${server.url}/cluster/info?stale=true`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { cluster_state: string; cluster_state_reasons: string[] };
    expect(body.cluster_state).toBe('red');
    expect(body.cluster_state_reasons[0]).toMatch(/^no quorum: /);
    expect((await fetch(`${server.url}/cluster/info`)).status).toBe(503);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain('torua_cluster_state{state="yellow"} 1');
    expect(text).toContain('torua_cluster_state{state="green"} 0');
  });
});
