// The planner on small, hand-built clusters: what an operator would expect to see.
import { describe, expect, it } from 'vitest';
import { planPlacement, rebalanceSettled, type PlannedStep } from '../../../src/coordinator/placement/index.js';
import { copiesOf, nodeById, type RoutingState } from '../../../src/coordinator/routing/index.js';
import { T0, applyCommand, applyRound, catchUp, cluster, copiesOn, copyLoads, join, primaryLoads, setStatus, settle, sortedValues } from './helpers.js';

const three = () => cluster(8, ['n1', 'n2', 'n3']);

describe('first assignment', () => {
  it('spreads 8 shards × 2 copies over 3 nodes as 5/5/6 copies and 3/3/2 primaries, all in sync', () => {
    const steps = planPlacement(three(), { nowMs: T0 + 1_000 });
    expect(steps.map((s) => s.command.type)).toEqual(Array(8).fill('assignShard'));
    const state = applyRound(three(), steps);
    expect(sortedValues(copyLoads(state))).toEqual([5, 5, 6]);
    expect(sortedValues(primaryLoads(state))).toEqual([2, 3, 3]);
    for (const shard of state.shards) {
      expect(copiesOf(shard)).toHaveLength(2);
      expect(shard.state).toBe('active');
    }
  });

  it('waits until no node has registered for settleMs', () => {
    const state = cluster(4, [{ id: 'n1', atMs: T0 }, { id: 'n2', atMs: T0 + 500 }]);
    expect(planPlacement(state, { nowMs: T0 + 1_499 })).toEqual([]);
    const steps = planPlacement(state, { nowMs: T0 + 1_500 });
    expect(steps).toHaveLength(4);
    expect(planPlacement(state, { nowMs: T0 + 700, settleMs: 200 })).toHaveLength(4);
  });

  it('with fewer nodes than the replication factor, waits graceMs after the first registration, then assigns fewer copies', () => {
    const state = cluster(2, [{ id: 'n1', atMs: T0 }], { replicationFactor: 2 });
    expect(planPlacement(state, { nowMs: T0 + 4_999 })).toEqual([]);
    const steps = planPlacement(state, { nowMs: T0 + 5_000 });
    expect(steps.map((s) => s.command)).toMatchObject([
      { type: 'assignShard', shardId: 0, primary: 'n1', replicas: [] },
      { type: 'assignShard', shardId: 1, primary: 'n1', replicas: [] },
    ]);
  });

  it('grace also ends the wait for nodes that keep arriving', () => {
    const arrivals = [0, 800, 1_600, 2_400, 3_200, 4_000, 4_800].map((d, i) => ({ id: `n${i + 1}`, atMs: T0 + d }));
    const state = cluster(3, arrivals);
    expect(planPlacement(state, { nowMs: T0 + 4_900 })).toEqual([]);
    expect(planPlacement(state, { nowMs: T0 + 5_000 })).toHaveLength(3);
  });

  it('never exceeds a capacity, and leaves shards for which there is no room unassigned', () => {
    const state = applyRound(cluster(4, [{ id: 'n1', capacity: 2 }, { id: 'n2', capacity: 1 }]), []);
    const after = applyRound(state, planPlacement(state, { nowMs: T0 + 1_000 }));
    expect(copyLoads(after)).toEqual({ n1: 2, n2: 1 });
    expect(after.shards.filter((s) => s.primary === null)).toHaveLength(2);
  });

  it('plans nothing without nodes', () => {
    expect(planPlacement(cluster(4, []), { nowMs: T0 + 60_000 })).toEqual([]);
  });
});

describe('a node joining', () => {
  it('gets its share of the copies and of the primaries by balancing when a rebalance is asked for; primaries move by handoff only', () => {
    const placed = settle(three()).state;
    const { state, steps } = settle(join(placed, { id: 'n4', atMs: T0 + 100_000 }), { fromMs: T0 + 100_000, input: { rebalance: true } });
    expect(copyLoads(state)).toEqual({ n1: 4, n2: 4, n3: 4, n4: 4 });
    expect(primaryLoads(state)).toEqual({ n1: 2, n2: 2, n3: 2, n4: 2 });
    // Copies move by an extra replica and a trim (never demoting); primaries by promoting an in-sync replica.
    expect(steps.every((s) => (s.command.type === 'moveShard' && s.demotes === null) || s.command.type === 'promotePrimary')).toBe(true);
    expect(steps.filter((s) => s.command.type === 'promotePrimary').length).toBeGreaterThan(0);
    // Rule 6 marks its own steps (what POST /cluster/rebalance reports); the trims that follow them are not its.
    expect(steps.filter((s) => s.balance === true).length).toBeGreaterThan(0);
    expect(steps.filter((s) => s.balance === true).every((s) => s.command.reason.startsWith('balance'))).toBe(true);
  });

  it('gets nothing without a rebalance: balance is never automatic', () => {
    const placed = settle(three()).state;
    const { state, steps } = settle(join(placed, { id: 'n4', atMs: T0 + 100_000 }), { fromMs: T0 + 100_000 });
    expect(steps).toEqual([]);
    expect(copyLoads(state)).toMatchObject({ n4: 0 });
  });
});

describe('rebalanceSettled', () => {
  it('is true only for an empty plan with nothing being filled', () => {
    const placed = settle(three()).state;
    expect(rebalanceSettled(placed, [])).toBe(true);
    const joined = join(placed, { id: 'n4', atMs: T0 + 100_000 });
    const steps = planPlacement(joined, { nowMs: T0 + 100_000, rebalance: true });
    expect(steps).toHaveLength(1);
    expect(rebalanceSettled(joined, steps)).toBe(false);
    // While the new copy is being filled the planner never tries balance, so an empty plan then says nothing.
    expect(rebalanceSettled(applyRound(joined, steps), [])).toBe(false);
  });
});

describe('a copy being filled', () => {
  it('is never dropped as the surplus: the copy balance added stays until it is in sync, then an old one goes', () => {
    const placed = settle(three()).state;
    const joined = join(placed, { id: 'n4', atMs: T0 + 100_000 });
    const added = applyRound(joined, planPlacement(joined, { nowMs: T0 + 100_000, rebalance: true }));
    const shard = added.shards.find((s) => copiesOf(s).includes('n4'))!;
    expect(shard.inSync).not.toContain('n4');
    // Rounds while it is still being filled (with and without the rebalance flag) leave that shard alone.
    for (const rebalance of [false, true]) {
      const steps = planPlacement(added, { nowMs: T0 + 100_050, rebalance });
      expect(steps.filter((st) => 'shardId' in st.command && st.command.shardId === shard.id)).toEqual([]);
    }
    // In sync now: the surplus copy that goes is an old one, never n4's.
    const caught = catchUp(added, T0 + 100_100).state;
    const trim = planPlacement(caught, { nowMs: T0 + 100_100, rebalance: true }).find((st) => 'shardId' in st.command && st.command.shardId === shard.id);
    expect(trim?.command.type).toBe('moveShard');
    const after = applyRound(caught, [trim!]).shards[shard.id]!;
    expect(copiesOf(after)).toContain('n4');
    expect(copiesOf(after)).toHaveLength(2);
  });
});

describe('a node returning from unhealthy', () => {
  const returned = () => {
    const { state: failedOver } = settle(setStatus(settle(three()).state, 'n1', 'unhealthy', T0 + 100_000), { fromMs: T0 + 100_000 });
    expect(copiesOn(failedOver, 'n1')).toBe(0);
    return setStatus(failedOver, 'n1', 'healthy', T0 + 200_000);
  };

  it('is healthy again and gets nothing moved back by itself', () => {
    const { state, steps } = settle(returned(), { fromMs: T0 + 200_000 });
    expect(steps).toEqual([]);
    expect(copiesOn(state, 'n1')).toBe(0);
  });

  it('gets its share back once a rebalance is asked for', () => {
    const { state } = settle(returned(), { fromMs: T0 + 200_000, input: { rebalance: true } });
    expect(sortedValues(copyLoads(state))).toEqual([5, 5, 6]);
  });
});

describe('draining', () => {
  it('one of three nodes ends `left`, every shard at 2 copies on the other two', () => {
    const placed = settle(three()).state;
    const { state } = settle(setStatus(placed, 'n2', 'draining', T0 + 100_000), { fromMs: T0 + 100_000 });
    expect(nodeById(state, 'n2')?.status).toBe('left');
    for (const shard of state.shards) {
      expect([...copiesOf(shard)].sort()).toEqual(['n1', 'n3']);
      expect(shard.state).toBe('active');
    }
  });

  it('finishes with fewer copies when no other node can take one', () => {
    const placed = settle(cluster(4, ['n1', 'n2'])).state;
    const { state } = settle(setStatus(placed, 'n1', 'draining', T0 + 100_000), { fromMs: T0 + 100_000 });
    expect(nodeById(state, 'n1')?.status).toBe('left');
    expect(state.shards.map((s) => copiesOf(s))).toEqual(Array(4).fill(['n2']));
  });

  it('a draining node that holds nothing leaves at once; an evacuating one is in maintenance at once', () => {
    const draining = setStatus(cluster(2, ['n1', 'n2', 'n3']), 'n3', 'draining');
    expect(planPlacement(draining, { nowMs: T0 }).map((s) => s.command)).toEqual([
      expect.objectContaining({ type: 'setNodeStatus', nodeId: 'n3', status: 'left', expectedStatus: 'draining' }),
    ]);
    const evacuating = setStatus(cluster(2, ['n1', 'n2', 'n3']), 'n3', 'evacuating');
    expect(planPlacement(evacuating, { nowMs: T0 }).map((s) => s.command)).toEqual([expect.objectContaining({ type: 'finishEvacuation', nodeId: 'n3' })]);
  });
});

describe('failure', () => {
  const failed = () => setStatus(settle(three()).state, 'n1', 'unhealthy', T0 + 100_000);

  it('promotes an in-sync replica of each shard whose primary failed, demoting the failed node', () => {
    const state = failed();
    const led = state.shards.filter((s) => s.primary === 'n1');
    expect(led.length).toBeGreaterThan(0);
    const steps = planPlacement(state, { nowMs: T0 + 100_000 });
    const promotions = steps.filter((s) => s.command.type === 'promotePrimary');
    expect(promotions.map((s) => ('shardId' in s.command ? s.command.shardId : -1))).toEqual(led.map((s) => s.id));
    for (const p of promotions) {
      expect(p.demotes).toBe('n1');
      expect(p.command).toMatchObject({ nodeId: expect.stringMatching(/^n[23]$/) });
    }
    const after = applyRound(state, steps);
    expect(after.shards.every((s) => s.primary !== 'n1')).toBe(true);
  });

  it('takes the failed node out of the in-sync set of the shards it was a replica of, so their primaries stop waiting for it', () => {
    const state = failed();
    const replicaOf = state.shards.filter((s) => s.primary !== 'n1' && s.inSync.includes('n1'));
    expect(replicaOf.length).toBeGreaterThan(0);
    const steps = planPlacement(state, { nowMs: T0 + 100_000 });
    const outOfSync = steps.filter((s) => s.command.type === 'setInSync');
    expect(outOfSync.map((s) => ('shardId' in s.command ? s.command.shardId : -1))).toEqual(replicaOf.map((s) => s.id));
    for (const st of outOfSync) expect(st).toMatchObject({ command: { nodeId: 'n1', inSync: false }, demotes: null });
    const after = applyRound(state, steps);
    // Promoted shards drop the old primary from the in-sync set by themselves; no shard waits for n1 now.
    expect(after.shards.filter((s) => s.inSync.includes('n1'))).toEqual([]);
  });

  it('replaces the failed node’s copies only after replaceDelayMs', () => {
    let state = failed();
    const delay = state.config.settings.recovery.replaceDelayMs;
    state = applyRound(state, planPlacement(state, { nowMs: T0 + 100_000 }));
    expect(planPlacement(state, { nowMs: T0 + 100_000 + delay - 1 })).toEqual([]);
    const repairs = planPlacement(state, { nowMs: T0 + 100_000 + delay });
    expect(repairs.length).toBeGreaterThan(0);
    expect(repairs.every((s) => s.command.type === 'moveShard' && s.command.reason.startsWith('repair'))).toBe(true);
  });

  it('in the end holds every shard twice on the two nodes left, none on the failed one', () => {
    const { state } = settle(failed(), { fromMs: T0 + 100_000 });
    expect(copiesOn(state, 'n1')).toBe(0);
    for (const shard of state.shards) expect([...copiesOf(shard)].sort()).toEqual(['n2', 'n3']);
  });

  it('respects the recovery limits per target node and per cluster', () => {
    const recovery = { replaceDelayMs: 0, maxConcurrentPerNode: 1, maxConcurrentPerCluster: 2 };
    let state = settle(cluster(16, ['n1', 'n2', 'n3', 'n4'], { replicationFactor: 2, recovery })).state;
    state = setStatus(state, 'n1', 'unhealthy', T0 + 100_000);
    const repairsOf = (steps: PlannedStep[]) => steps.filter((s) => s.command.reason.startsWith('repair'));
    const added = (steps: PlannedStep[]) => repairsOf(steps).map((s) => (s.command.type === 'moveShard' ? s.command.replicas : []));
    // Rounds without recovery progress: never more than two replicas being filled, never two on one node.
    const inFlight: string[] = [];
    for (let i = 0; i < 3; i++) {
      const steps = planPlacement(state, { nowMs: T0 + 100_000 + i });
      const before = state;
      state = applyRound(state, steps);
      for (const step of repairsOf(steps)) {
        const c = step.command;
        if (c.type !== 'moveShard') throw new Error('repair is a move');
        const had = before.shards[c.shardId]?.replicas ?? [];
        inFlight.push(...c.replicas.filter((r) => !had.includes(r)));
      }
    }
    expect(inFlight).toHaveLength(2);
    expect(new Set(inFlight).size).toBe(2);
    state = catchUp(state, T0 + 100_010).state;
    expect(added(planPlacement(state, { nowMs: T0 + 100_011 }))).toHaveLength(2);
  });

  it('does not promote a replica that is not in sync', () => {
    let state = cluster(1, ['n1', 'n2']);
    state = settle(state).state;
    const shard = state.shards[0];
    if (shard === undefined || shard.primary === null) throw new Error('unplaced');
    const replica = shard.replicas[0] as string;
    state = applyRound(state, [
      { command: { type: 'setInSync', atMs: T0, reason: 'lagging', shardId: 0, expectedEpoch: shard.epoch, nodeId: replica, inSync: false }, demotes: null },
    ]);
    state = setStatus(state, shard.primary, 'unhealthy', T0 + 100_000);
    expect(planPlacement(state, { nowMs: T0 + 100_000 }).filter((s) => s.command.type === 'promotePrimary')).toEqual([]);
  });
});

describe('a changed replication factor', () => {
  const withFactor = (state: RoutingState, replicationFactor: number) =>
    applyCommand(state, { type: 'updateSettings', atMs: T0, reason: 'test', expectedVersion: state.config.version, settings: { replicationFactor } });

  it('raised: every shard gets the extra copy, spread evenly', () => {
    const { state } = settle(withFactor(settle(cluster(6, ['n1', 'n2', 'n3', 'n4'])).state, 3), { fromMs: T0 + 100_000 });
    expect(state.shards.every((s) => copiesOf(s).length === 3 && s.state === 'active')).toBe(true);
    expect(sortedValues(copyLoads(state))).toEqual([4, 4, 5, 5]);
  });

  it('lowered: surplus copies are dropped from the most loaded nodes, a primary only by handing over in the same step', () => {
    const placed = settle(cluster(6, ['n1', 'n2', 'n3', 'n4'], { replicationFactor: 3 })).state;
    const { state, steps } = settle(withFactor(placed, 1), { fromMs: T0 + 100_000 });
    for (const shard of state.shards) {
      expect(copiesOf(shard)).toHaveLength(1);
      expect(copiesOf(placed.shards[shard.id]!)).toContain(shard.primary);
    }
    // No primary was dropped without an in-sync successor named in the same command.
    for (const step of steps) if (step.demotes !== null) expect(step.command).toMatchObject({ type: 'moveShard', primary: expect.any(String) });
  });
});
