// A planning round is one synchronous call on the leader's event loop: with maxSteps it plans that many steps and no more,
// and those are exactly the first steps of the whole plan, so rounds of a few steps end where one whole plan would.
import { describe, expect, it } from 'vitest';
import { planPlacement, type PlacementInput } from '../../../src/coordinator/placement/index.js';
import { apply, initialState, type Command, type RoutingState } from '../../../src/coordinator/routing/index.js';
import { applyRound, catchUp, cluster, join, setStatus, settle, T0 } from './helpers.js';

const meta = { index: 1, term: 1 };

/** Applies without the per-step invariant scan of applyRound (thousands of steps on a large table). */
function must(state: RoutingState, c: Command): RoutingState {
  const out = apply(state, c, meta);
  if (!out.result.ok) throw new Error(`${c.type} refused: ${out.result.code} ${out.result.message}`);
  return out.state;
}

/** 1,000 healthy nodes in 3 zones, 4,096 shards × RF 3, nothing placed yet. */
function largeRegistered(): RoutingState {
  let state = initialState({ clusterId: 'bounded', shards: 4_096, settings: { replicationFactor: 3 } });
  for (let i = 0; i < 1_000; i++) {
    const base = { atMs: T0, reason: 'test', nodeId: `n${i + 1}` };
    state = must(state, { type: 'registerNode', ...base, address: `127.0.0.1:${10_000 + i}`, capacity: 25, version: '', labels: { zone: `z${i % 3}` } });
    state = must(state, { type: 'setNodeStatus', ...base, status: 'healthy' });
  }
  return state;
}

/** For every k, the round with maxSteps k is the whole plan's first k steps. */
function expectPrefixes(state: RoutingState, input: PlacementInput): number {
  const whole = planPlacement(state, input);
  for (let k = 1; k <= whole.length + 1; k++) expect(planPlacement(state, { ...input, maxSteps: k }), `maxSteps ${k}`).toEqual(whole.slice(0, k));
  return whole.length;
}

describe('placement: a bounded round', () => {
  it('on 1,000 nodes × 4,096 shards, the first assignment goes 32 shards a round and ends exactly where the whole plan would', () => {
    const registered = largeRegistered();
    const nowMs = T0 + 60_000;
    const whole = planPlacement(registered, { nowMs });
    expect(whole).toHaveLength(4_096);
    const firstRound = planPlacement(registered, { nowMs, maxSteps: 32 });
    expect(firstRound).toHaveLength(32);
    expect(firstRound).toEqual(whole.slice(0, 32));

    let state = registered;
    let rounds = 0;
    for (;;) {
      const steps = planPlacement(state, { nowMs, maxSteps: 32 });
      if (steps.length === 0) break;
      expect(steps.length).toBeLessThanOrEqual(32);
      for (const step of steps) state = must(state, step.command);
      rounds++;
      expect(rounds, 'rounds').toBeLessThanOrEqual(4_096 / 32);
    }
    expect(rounds).toBe(4_096 / 32);
    const placed = (s: RoutingState) => s.shards.map((sh) => [sh.primary, [...sh.replicas].sort()]);
    const planned = whole.map((step) => (step.command.type === 'assignShard' ? [step.command.primary, [...step.command.replicas].sort()] : null));
    expect(placed(state)).toEqual(planned);
  }, 60_000);

  it('after failures, a drain and a join, every round with maxSteps k is the first k steps of the whole plan', () => {
    const zones = (i: number) => ({ zone: `z${i % 3}` });
    const nodes = Array.from({ length: 9 }, (_, i) => ({ id: `n${i + 1}`, labels: zones(i) }));
    let state = settle(cluster(48, nodes, { replicationFactor: 3 })).state;
    const at = T0 + 100_000;
    state = setStatus(setStatus(state, 'n1', 'unhealthy', at), 'n2', 'draining', at);
    expect(expectPrefixes(state, { nowMs: at })).toBeGreaterThan(3);
    state = applyRound(state, planPlacement(state, { nowMs: at }));
    // The replacement delay over: repair and trim, within the recovery limits.
    const later = at + state.config.settings.recovery.replaceDelayMs + 1;
    expect(expectPrefixes(state, { nowMs: later })).toBeGreaterThan(1);
    state = settle(state, { fromMs: later }).state;
    state = catchUp(join(state, { id: 'n10', labels: zones(0), atMs: later }), later).state;
    expect(expectPrefixes(state, { nowMs: later + 1, rebalance: true })).toBeGreaterThan(0);
  });
});
