// The dry run equals the real thing: the same changes made on the table and the planner driven round after
// round (every step applied, copies caught up) make exactly the moves the dry run listed, in the same order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dryRun, type PlanScenario } from '../../../src/coordinator/placement/index.js';
import { nodeShardCounts, stateHash, type Command, type RoutingState } from '../../../src/coordinator/routing/index.js';
import { T0, applyCommand, cluster, setStatus, settle } from './helpers.js';

const TIMEOUT = { timeout: 60_000 };
const at = T0 + 100_000;

/** The scenario made for real, as the health monitor or the operator would. */
function really(state: RoutingState, scenario: PlanScenario): RoutingState {
  for (const j of scenario.join ?? []) {
    state = applyCommand(state, { type: 'registerNode', atMs: at, reason: 'join', nodeId: j.id, address: '127.0.0.1:9999', capacity: j.capacity, version: '', labels: { ...j.labels } });
  }
  for (const id of scenario.fail ?? []) state = setStatus(state, id, 'unhealthy', at);
  for (const id of scenario.drain ?? []) state = setStatus(state, id, 'draining', at);
  if ((scenario.maintenance ?? []).length > 0) {
    state = applyCommand(state, { type: 'setMaintenance', atMs: at, reason: 'm', nodeIds: [...(scenario.maintenance ?? [])], enabled: true } as Command);
  }
  return state;
}

describe('dry run', () => {
  it('lists exactly the steps the planner then takes, in order, and the placement they end in', TIMEOUT, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 6 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom('fail', 'drain', 'maintenance', 'join'),
        fc.nat(5),
        (nodes, shards, factor, kind, which) => {
          fc.pre(factor <= nodes);
          const ids = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
          let placed = settle(cluster(shards, ids, { replicationFactor: factor })).state;
          for (const id of ids) placed = setStatus(placed, id, 'healthy');
          const node = ids[which % nodes] as string;
          const scenario: PlanScenario = kind === 'join' ? { join: [{ id: 'n9', capacity: 16 }] } : { [kind]: [node] };
          const before = stateHash(placed);
          const plan = dryRun(placed, scenario, { nowMs: at });
          expect(stateHash(placed), 'the table given is not changed').toBe(before);
          if (plan.notes.length > 0) {
            // The table refuses the change (too few nodes left for maintenance, the storm guard): so does the real one.
            expect(() => really(placed, scenario)).toThrow(/rejected/);
            expect(plan.moves).toEqual([]);
            return;
          }
          const real = settle(really(placed, scenario), { fromMs: at, input: { rebalance: kind === 'join' } });
          expect(plan.moves.map((m) => m.reason)).toEqual(real.steps.map((s) => s.command.reason));
          expect(plan.moves.map((m) => [m.shard, m.command])).toEqual(real.steps.map((s) => ['shardId' in s.command ? s.command.shardId : null, s.command.type]));
          const counts = Object.fromEntries(Object.entries(nodeShardCounts(real.state)).map(([id, l]) => [id, { copies: l.total, primaries: l.primaries }]));
          expect(plan.result.nodes).toEqual(counts);
        },
      ),
      { numRuns: 80 },
    );
  });
});
