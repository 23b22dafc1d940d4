// Property tests: random clusters driven round after round until the planner has nothing left to do.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planPlacement } from '../../../src/coordinator/placement/index.js';
import { apply, copiesOf, nodeById, nodesInOrder, type NodeStatus, type RoutingState } from '../../../src/coordinator/routing/index.js';
import { meta } from '../routing/helpers.js';
import { T0, cluster, copyLoads, eligibleNodes, join, settle, statusCommand } from './helpers.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `n${i + 1}`);

/** A status change that apply may refuse (e.g. `left` while holding copies): then it simply did not happen. */
const tryStatus = (state: RoutingState, nodeId: string, status: NodeStatus, atMs: number): RoutingState =>
  apply(state, statusCommand(nodeId, status, atMs), meta()).state;

const recovery = fc
  .record({ replaceDelayMs: fc.integer({ min: 0, max: 5_000 }), maxConcurrentPerNode: fc.integer({ min: 1, max: 3 }), extra: fc.integer({ min: 0, max: 4 }) })
  .map(({ replaceDelayMs, maxConcurrentPerNode, extra }) => ({ replaceDelayMs, maxConcurrentPerNode, maxConcurrentPerCluster: maxConcurrentPerNode + extra }));

/** What every generated cluster has: its shards, replication factor and recovery limits. */
const table = { shards: fc.integer({ min: 1, max: 10 }), factor: fc.integer({ min: 1, max: 3 }), recovery };

const ANY_STATUS = ['healthy', 'unknown', 'maintenance', 'unhealthy', 'draining', 'evacuating', 'left'] as const;

/** Enough rounds for every shard to be re-homed a few times over, and every wait to pass. */
const roundBound = (shards: number, factor: number) => 40 + 12 * shards * factor;

// Each property runs a few hundred plan rounds per case: generous, so a busy machine does not fail them.
const TIMEOUT = { timeout: 60_000 };

describe('placement properties', () => {
  it('on any cluster, plan → apply terminates, every step is accepted, current, one per shard, and demotes exactly the old primary', TIMEOUT, () => {
    fc.assert(
      fc.property(
        fc.record({
          ...table,
          capacities: fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 7 }),
          changes: fc.array(fc.record({ node: fc.nat(8), status: fc.constantFrom(...ANY_STATUS) }), { maxLength: 8 }),
          later: fc.array(fc.integer({ min: 0, max: 8 }), { maxLength: 2 }),
        }),
        ({ shards, factor, recovery, capacities, changes, later }) => {
          const bound = roundBound(shards, factor);
          const nodes = ids(capacities.length).map((id, i) => ({ id, capacity: capacities[i] ?? 0 }));
          let state = settle(cluster(shards, nodes, { replicationFactor: factor, recovery }), { maxRounds: bound }).state;
          let at = T0 + 1_000_000;
          for (const c of changes) state = tryStatus(state, `n${(c.node % 9) + 1}`, c.status, at);
          later.forEach((capacity, i) => (state = join(state, { id: `x${i + 1}`, capacity, atMs: at })));
          state = settle(state, { fromMs: at, maxRounds: bound }).state;
          // Everybody back: the cluster must settle again.
          at += 10_000_000;
          for (const n of nodesInOrder(state)) if (n.status !== 'left') state = tryStatus(state, n.id, 'healthy', at);
          settle(state, { fromMs: at, maxRounds: bound });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('with room enough, ends in the goal placement: factor copies on distinct nodes, spread within 1, nothing on leaving or failed nodes, drained nodes left, evacuated ones in maintenance', TIMEOUT, () => {
    fc.assert(
      fc.property(
        fc.record({
          ...table,
          nodeCount: fc.integer({ min: 1, max: 7 }),
          fates: fc.array(fc.constantFrom('stay', 'stay', 'draining', 'evacuating', 'unhealthy'), { minLength: 7, maxLength: 7 }),
          joining: fc.integer({ min: 0, max: 2 }),
        }),
        ({ shards, factor, recovery, nodeCount, fates, joining }) => {
          const bound = roundBound(shards, factor);
          const capacity = shards + 1;
          let state = settle(cluster(shards, ids(nodeCount).map((id) => ({ id, capacity })), { replicationFactor: factor, recovery }), { maxRounds: bound }).state;
          checkGoal(state, [], true);

          // Fewer failures than copies per shard, so every shard keeps an in-sync copy.
          const at = T0 + 1_000_000;
          let failuresLeft = Math.min(factor, nodeCount) - 1;
          const leaving: [string, 'draining' | 'evacuating'][] = [];
          ids(nodeCount).forEach((id, i) => {
            const fate = fates[i] ?? 'stay';
            if (fate === 'unhealthy' && failuresLeft-- <= 0) return;
            if (fate === 'draining' || fate === 'evacuating') leaving.push([id, fate]);
            if (fate !== 'stay') state = tryStatus(state, id, fate, at);
          });
          for (let i = 0; i < joining; i++) state = join(state, { id: `x${i + 1}`, capacity, atMs: at });
          fc.pre(eligibleNodes(state).length > 0);
          // Balance runs only when asked (a new node joining, or POST /cluster/rebalance): here it is asked.
          state = settle(state, { fromMs: at, maxRounds: bound, input: { rebalance: true } }).state;
          checkGoal(state, leaving, joining === 0 && factor > 1);
        },
      ),
      { numRuns: 150 },
    );
  });
});

function checkGoal(state: RoutingState, leaving: readonly (readonly [string, 'draining' | 'evacuating'])[], evenly: boolean): void {
  const eligible = eligibleNodes(state).map((n) => n.id);
  const want = Math.min(state.config.settings.replicationFactor, eligible.length);
  for (const shard of state.shards) {
    const copies = copiesOf(shard);
    expect(copies, `shard ${shard.id}`).toHaveLength(want);
    expect(new Set(copies).size).toBe(copies.length);
    expect(copies.every((id) => eligible.includes(id)), `shard ${shard.id} on ${copies.join(',')}, eligible ${eligible.join(',')}`).toBe(true);
    expect(shard.state).toBe('active');
  }
  const loads = copyLoads(state);
  const eligibleLoads = eligible.map((id) => loads[id] ?? 0);
  if (evenly) expect(Math.max(...eligibleLoads) - Math.min(...eligibleLoads), JSON.stringify(loads)).toBeLessThanOrEqual(1);
  // Balancing moves replicas only (never a primary): a node heavier by 2 or more holds nothing the light one could take.
  for (const heavy of eligible) {
    for (const light of eligible) {
      if ((loads[heavy] ?? 0) - (loads[light] ?? 0) <= 1) continue;
      const movable = state.shards.filter((s) => s.replicas.includes(heavy) && !copiesOf(s).includes(light)).map((s) => s.id);
      expect(movable, `${heavy} could give ${light} a copy: ${JSON.stringify(loads)}`).toEqual([]);
    }
  }
  for (const [id, how] of leaving) expect(nodeById(state, id)?.status).toBe(how === 'draining' ? 'left' : 'maintenance');
  for (const [id, load] of Object.entries(loads)) if (!eligible.includes(id)) expect(load, `${id} holds copies`).toBe(0);
}
