// The driver's leader-local "rebalance requested" flag: who sets it, when it clears, and what a request answers.
import { afterEach, describe, expect, it } from 'vitest';
import { NodeControl } from '../../../src/coordinator/node-control.js';
import type { PlacementInput, PlannedStep } from '../../../src/coordinator/placement/index.js';
import { Fencer, PlacementDriver, type PlanFunction } from '../../../src/coordinator/placement-driver/index.js';
import type { Command, RoutingState } from '../../../src/coordinator/routing/index.js';
import { isClusterError, ClusterErrorCode } from '../../../src/errors/index.js';
import { silentLogger } from '../../../src/observability/index.js';
import { FakeCoordinatorService, registerCommand, unreachableNodes } from '../../api/fake-service.js';
import { waitFor } from '../../api/helpers.js';

const status = (nodeId: string, to: 'healthy' | 'unhealthy' | 'left'): Command =>
  to === 'unhealthy'
    ? { type: 'setNodeStatus', atMs: 0, reason: 'test', nodeId, status: to, confirmedBy: ['c1', 'c2'], voters: 3 }
    : { type: 'setNodeStatus', atMs: 0, reason: 'test', nodeId, status: to };

/** A balance step on the first shard without a primary (a stand-in for rule 6: the driver only counts and carries it out). */
function balanceStep(s: RoutingState): PlannedStep[] {
  const shard = s.shards.find((x) => x.primary === null);
  if (shard === undefined) return [];
  return [{ command: { type: 'assignShard', atMs: 0, reason: `balance: shard ${shard.id}`, shardId: shard.id, expectedEpoch: shard.epoch, primary: 'n1', replicas: [] }, demotes: null, balance: true }];
}

/** A plan that records what each round was asked, and balances (while asked) until every shard is placed. */
function recordingPlan() {
  const inputs: PlacementInput[] = [];
  const plan: PlanFunction = (s, input) => {
    inputs.push(input);
    return input.rebalance === true ? balanceStep(s) : [];
  };
  return { plan, inputs, last: () => inputs.at(-1)?.rebalance ?? false };
}

async function healthyCluster(): Promise<FakeCoordinatorService> {
  const service = new FakeCoordinatorService({ shards: 2 });
  for (const id of ['n1', 'n2', 'n3']) {
    await service.propose(registerCommand(id));
    await service.propose(status(id, 'healthy'));
  }
  return service;
}

/**
 * A running driver whose loop only runs its first round by itself (long
 * interval and debounce), so the test drives the rounds that follow.
 */
async function runningDriver(service: FakeCoordinatorService, plan: PlanFunction) {
  const fencer = new Fencer({}, { leases: { fencedAtMs: () => 0, markDemoting: () => undefined, releaseDemoting: () => undefined }, nodeLink: unreachableNodes, logger: silentLogger });
  const driver = new PlacementDriver({ intervalMs: 600_000, debounceMs: 600_000 }, { service, fencer, logger: silentLogger, plan });
  return driver;
}

describe('placement driver: rebalance requests', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  async function started(service: FakeCoordinatorService, plan: PlanFunction, inputs: PlacementInput[]) {
    const driver = await runningDriver(service, plan);
    driver.start();
    stops.push(() => driver.stop());
    await waitFor('the first round after start', () => inputs.length >= 1);
    return driver;
  }

  it('a new node registering turns balancing on; it stays on while balance steps are planned and clears when a round plans none', async () => {
    const service = await healthyCluster();
    const { plan, inputs, last } = recordingPlan();
    const driver = await started(service, plan, inputs);
    expect(last()).toBe(false);
    expect(driver.rebalancePending).toBe(false);

    await service.propose(registerCommand('n4'));
    expect(driver.rebalancePending).toBe(true);
    const first = await driver.runRound();
    expect(first).toMatchObject({ rebalance: true, balanceSteps: 1 });
    expect(driver.rebalancePending).toBe(true);
    expect((await driver.runRound()).balanceSteps).toBe(1);
    // Every shard placed: the plan has nothing left, so the request is done.
    const done = await driver.runRound();
    expect(done).toMatchObject({ rebalance: true, balanceSteps: 0, proposed: [] });
    expect(driver.rebalancePending).toBe(false);
    expect((await driver.runRound()).rebalance).toBe(false);
  });

  it('a node that had left and registers again counts as new', async () => {
    const service = await healthyCluster();
    const { plan, inputs } = recordingPlan();
    const driver = await started(service, plan, inputs);
    await service.propose(status('n3', 'left'));
    expect(driver.rebalancePending).toBe(false);
    await service.propose(registerCommand('n3'));
    expect(service.state.events.items.at(-1)?.kind).toBe('node-registered');
    expect(driver.rebalancePending).toBe(true);
  });

  it('a node returning from unhealthy, or a known node re-registering, turns nothing on', async () => {
    const service = await healthyCluster();
    const { plan, inputs, last } = recordingPlan();
    const driver = await started(service, plan, inputs);
    await service.propose(status('n1', 'unhealthy'));
    await service.propose(status('n1', 'healthy'));
    await service.propose(registerCommand('n2', 12));
    expect(service.state.events.items.at(-1)?.kind).toBe('node-updated');
    expect(service.state.nodes['n1']?.status).toBe('healthy');
    expect(driver.rebalancePending).toBe(false);
    await driver.runRound();
    expect(last()).toBe(false);
    expect(service.state.shards.every((s) => s.primary === null)).toBe(true);
  });

  it('requestRebalance answers with the first round planned after it, and says whether more is to come', async () => {
    const service = await healthyCluster();
    const { plan, inputs } = recordingPlan();
    const driver = await started(service, plan, inputs);
    const answer = await driver.requestRebalance('test');
    expect(answer.round).toMatchObject({ rebalance: true, balanceSteps: 1, stoppedBy: null });
    expect(answer.round?.proposed.map((c) => c.reason)).toEqual(['balance: shard 0']);
    expect(answer.pending).toBe(true);
    await driver.runRound();
    const last = await driver.requestRebalance('test');
    expect(last.round).toMatchObject({ rebalance: true, balanceSteps: 0 });
    expect(last.pending).toBe(false);
  });

  it("the balance steps of a requested rebalance name who asked in their events", async () => {
    const service = await healthyCluster();
    const { plan, inputs } = recordingPlan();
    const driver = await started(service, plan, inputs);
    const answer = await driver.requestRebalance('test', undefined, 'ops-erin');
    expect(answer.round?.proposed.map((c) => [c.reason, c.by])).toEqual([['balance: shard 0', 'ops-erin']]);
    expect(service.state.events.items.filter((e) => e.reason === 'balance: shard 0').map((e) => e.by)).toEqual(['ops-erin']);
  });

  it('requests made before a round share its answer', async () => {
    const service = await healthyCluster();
    const { plan, inputs } = recordingPlan();
    const driver = await started(service, plan, inputs);
    const before = inputs.length;
    const [a, b] = await Promise.all([driver.requestRebalance('one'), driver.requestRebalance('two')]);
    expect(a.round).toBe(b.round);
    expect(inputs.length - before).toBe(1);
  });

  it('is leader-local: losing leadership drops the request, and a new reign starts without one', async () => {
    const service = await healthyCluster();
    const { plan, inputs, last } = recordingPlan();
    const control = new NodeControl({ placement: true, driver: { intervalMs: 600_000, debounceMs: 600_000 } }, { service, nodeLink: unreachableNodes, logger: silentLogger, plan });
    stops.push(() => control.close());
    await waitFor('the first round', () => inputs.length >= 1);
    await service.propose(registerCommand('n4'));
    service.followerOf('c2');
    const rejected = await control.requestRebalance('test').catch((e: unknown) => e);
    expect(isClusterError(rejected, ClusterErrorCode.NotLeader)).toBe(true);
    const rounds = inputs.length;
    service.becomeLeader();
    await waitFor('the first round of the new reign', () => inputs.length > rounds);
    expect(last()).toBe(false);
  });

  it('NodeControl without a placement driver refuses with UNAVAILABLE', async () => {
    const service = await healthyCluster();
    const control = new NodeControl({ placement: false }, { service, nodeLink: unreachableNodes, logger: silentLogger });
    stops.push(() => control.close());
    const refused = await control.requestRebalance('test').catch((e: unknown) => e);
    expect(isClusterError(refused, ClusterErrorCode.Unavailable)).toBe(true);
  });
});
