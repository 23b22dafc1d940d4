// POST /cluster/rebalance and admin.rebalance: leader only, answered with the first round planned after the request.
import { afterEach, describe, expect, it } from 'vitest';
import { createAppCaller } from '../../src/api/coordinator/index.js';
import { run } from '../../src/cli/run.js';
import { NodeControl } from '../../src/coordinator/node-control.js';
import type { PlannedStep } from '../../src/coordinator/placement/index.js';
import type { PlanFunction } from '../../src/coordinator/placement-driver/index.js';
import type { RoutingState } from '../../src/coordinator/routing/index.js';
import { ClusterErrorCode } from '../../src/errors/index.js';
import { createNoopMetrics, silentLogger } from '../../src/observability/index.js';
import { FakeCoordinatorService, nodeControlFor, registerCommand, unreachableNodes } from './fake-service.js';
import { failure, startServer } from './helpers.js';

/** While a rebalance is requested: one balance step per round, placing the next unplaced shard on n1. */
const plan: PlanFunction = (s: RoutingState, input): PlannedStep[] => {
  const shard = s.shards.find((x) => x.primary === null);
  if (input.rebalance !== true || shard === undefined) return [];
  return [{ command: { type: 'assignShard', atMs: 0, reason: `balance: shard ${shard.id} to n1`, shardId: shard.id, expectedEpoch: shard.epoch, primary: 'n1', replicas: [] }, demotes: null, balance: true }];
};

const controls: NodeControl[] = [];
afterEach(async () => {
  for (const c of controls.splice(0)) await c.close();
});

async function leaderWithDriver() {
  const service = new FakeCoordinatorService({ shards: 2 });
  await service.propose(registerCommand('n1'));
  // Long interval and debounce: only the request (and the start) runs a round.
  const nodeControl = new NodeControl({ placement: true, driver: { intervalMs: 600_000, debounceMs: 600_000 } }, { service, nodeLink: unreachableNodes, logger: silentLogger, plan });
  controls.push(nodeControl);
  return { service, nodeControl };
}

describe('admin.rebalance', () => {
  it('answers with the balance steps of the round after the request, and whether more follow', async () => {
    const { service, nodeControl } = await leaderWithDriver();
    const caller = createAppCaller({ service, nodeControl, logger: silentLogger, metrics: createNoopMetrics() });
    // n1 registered before the driver started: nothing was requested, so the request is what places the shards, one per round.
    const first = await caller.admin.rebalance({ reason: 'test' });
    expect(first).toEqual({
      requested: true,
      in_progress: true,
      round_finished: true,
      balance_steps: 1,
      steps: [{ command: 'assignShard', shard: 0, reason: 'balance: shard 0 to n1' }],
      waiting: [],
      stopped_by: null,
    });
    expect(await caller.admin.rebalance()).toMatchObject({ balance_steps: 1, in_progress: true, steps: [{ shard: 1 }] });
    expect(service.state.shards.every((s) => s.primary === 'n1')).toBe(true);
    expect(await caller.admin.rebalance()).toMatchObject({ balance_steps: 0, steps: [], in_progress: false });
  });

  it('refuses bad input with the field named', async () => {
    const { service, nodeControl } = await leaderWithDriver();
    const caller = createAppCaller({ service, nodeControl, logger: silentLogger, metrics: createNoopMetrics() });
    const { error } = await failure(caller.admin.rebalance({ reason: 7 } as never));
    expect(error.code).toBe(ClusterErrorCode.InvalidInput);
    expect(error.message).toMatch(/reason/);
  });

  it('on a follower: NOT_LEADER naming the leader (forwarded over HTTP when the leader is known)', async () => {
    const service = new FakeCoordinatorService().followerOf('c2');
    const caller = createAppCaller({ service, nodeControl: nodeControlFor(service), logger: silentLogger, metrics: createNoopMetrics() });
    const { error } = await failure(caller.admin.rebalance());
    expect(error.code).toBe(ClusterErrorCode.NotLeader);
    expect(error.message).toMatch(/rebalancing/);
  });
});

describe('POST /cluster/rebalance', () => {
  it('is the same procedure over REST', async () => {
    const { service, nodeControl } = await leaderWithDriver();
    const server = await startServer(service, { nodeControl });
    const post = async (body: unknown) => {
      const res = await fetch(`${server.url}/cluster/rebalance`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      return { status: res.status, body: (await res.json()) as any };
    };
    const answer = await post({});
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ requested: true, round_finished: true });
    expect(typeof answer.body.balance_steps).toBe('number');
    const bad = await post({ reasons: 'typo' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_INPUT');
  });

  it('a replica without a placement driver answers 503 UNAVAILABLE', async () => {
    const service = new FakeCoordinatorService();
    const server = await startServer(service);
    const res = await fetch(`${server.url}/cluster/rebalance`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(503);
    expect(((await res.json()) as any).error.code).toBe('UNAVAILABLE');
  });
});

describe('torua rebalance', () => {
  it('calls admin.rebalance through the client and prints what was planned', async () => {
    const { service, nodeControl } = await leaderWithDriver();
    const server = await startServer(service, { nodeControl });
    let out = '';
    let err = '';
    const code = await run(['rebalance', '--coordinators', server.address], { out: (t) => (out += t), err: (t) => (err += t) });
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toBe(
      ['rebalance requested: 1 balance step in the first round (1 step in all)', '  assignShard shard 0: balance: shard 0 to n1', 'more steps follow as copies catch up; watch /events or torua status', ''].join('\n'),
    );
  });

  it('fails with the cluster’s error code when the replica cannot rebalance', async () => {
    const server = await startServer(new FakeCoordinatorService());
    let err = '';
    const code = await run(['rebalance', '--coordinators', server.address], { out: () => undefined, err: (t) => (err += t) });
    expect(code).toBe(1);
    expect(err).toMatch(/^torua rebalance: .*UNAVAILABLE/);
  });
});
