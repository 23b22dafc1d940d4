// Rule 7 (load): a hot node's hottest primaries move to cooler in-sync replicas, a copy first where none is cooler;
// and the leader's hot tracker: a whole window over the ratio, hysteresis, a cool-down after a move.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planPlacement, TARGET_RATIO, type LoadInput } from '../../../src/coordinator/placement/index.js';
import { COOL_DOWN_MS, HotTracker } from '../../../src/coordinator/placement-driver/hot-tracker.js';
import type { RoutingState } from '../../../src/coordinator/routing/index.js';
import { DEFAULT_CLUSTER_SETTINGS } from '../../../src/config/index.js';
import { T0, applyRound, cluster, settle } from './helpers.js';

const at = T0 + 100_000;

/** Per-shard load: `hotLoad` on the shards n1 leads, `coldLoad` on the rest; node loads summed over the shards they lead. */
function measured(state: RoutingState, hotLoad: number, coldLoad: number): Omit<LoadInput, 'hot'> {
  const shards = new Map(state.shards.map((s) => [s.id, s.primary === 'n1' ? hotLoad : coldLoad] as const));
  const nodes = new Map<string, number>(Object.keys(state.nodes).map((id) => [id, 0] as const));
  for (const s of state.shards) if (s.primary !== null) nodes.set(s.primary, (nodes.get(s.primary) ?? 0) + (shards.get(s.id) ?? 0));
  return { nodes, shards };
}

const meanOf = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((a, b) => a + b, 0) / m.size;

describe('load rule', () => {
  it('hands the hot node’s hottest primaries to the coolest in-sync replicas until it is within the target, each step explained', () => {
    const state = settle(cluster(12, ['n1', 'n2', 'n3', 'n4'], { replicationFactor: 3 })).state;
    const load = measured(state, 100, 10);
    const ratio = (load.nodes.get('n1') ?? 0) / meanOf(load.nodes);
    expect(ratio).toBeGreaterThan(1.8);
    const steps = planPlacement(state, { nowMs: at, load: { ...load, hot: [{ node: 'n1', ratio }] } });
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.every((s) => s.command.type === 'promotePrimary' && s.demotes === 'n1' && s.hotNode === 'n1')).toBe(true);
    expect(steps[0]?.command.reason).toMatch(/^load: n1 at \d+(\.\d)?× mean \(\d+ of mean [\d.]+ req\/s\); shard \d+ serves 100 req\/s; n\d \(in sync, [\d.]+ req\/s\) takes it over$/);
    const after = applyRound(state, steps);
    const now = measured(after, 0, 0);
    // The load moved with the primaries: recompute from the shards' own loads.
    const nodeLoad = (s: RoutingState, id: string) => s.shards.filter((x) => x.primary === id).reduce((sum, x) => sum + (load.shards.get(x.id) ?? 0), 0);
    const mean = [...now.nodes.keys()].reduce((sum, id) => sum + nodeLoad(after, id), 0) / now.nodes.size;
    expect(nodeLoad(after, 'n1')).toBeLessThanOrEqual(mean * TARGET_RATIO + 100);
    for (const id of ['n2', 'n3', 'n4']) expect(nodeLoad(after, id)).toBeLessThan(load.nodes.get('n1') ?? 0);
  });

  it('never leaves the hot node hotter, nor makes a receiver as hot as it was; nothing without a hot node', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 2, max: 12 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 20, max: 500 }), (n, shards, factor, hot) => {
        fc.pre(factor <= n);
        const state = settle(cluster(shards, Array.from({ length: n }, (_, i) => `n${i + 1}`), { replicationFactor: factor })).state;
        const load = measured(state, hot, 1);
        expect(planPlacement(state, { nowMs: at, load: { ...load, hot: [] } })).toEqual([]);
        const steps = planPlacement(state, { nowMs: at, load: { ...load, hot: [{ node: 'n1', ratio: 2 }] } });
        const after = applyRound(state, steps);
        const nodeLoad = (s: RoutingState, id: string) => s.shards.filter((x) => x.primary === id).reduce((sum, x) => sum + (load.shards.get(x.id) ?? 0), 0);
        const before = nodeLoad(state, 'n1');
        expect(nodeLoad(after, 'n1')).toBeLessThanOrEqual(before);
        for (const id of Object.keys(state.nodes)) if (id !== 'n1') expect(nodeLoad(after, id)).toBeLessThan(Math.max(before, 1) + 1e-9);
      }),
      { numRuns: 60 },
    );
  });

  it('with no cooler in-sync replica, moves nothing (a copy added for load would be the surplus trimmed again)', () => {
    // RF 1: no replica anywhere; n1 leads what it has, n2 idle.
    const state = settle(cluster(4, ['n1', 'n2'], { replicationFactor: 1 })).state;
    const load: LoadInput = { nodes: new Map([['n1', 400], ['n2', 0]]), shards: new Map(state.shards.map((s) => [s.id, s.primary === 'n1' ? 200 : 0] as const)), hot: [{ node: 'n1', ratio: 2 }] };
    expect(planPlacement(state, { nowMs: at, load })).toEqual([]);
  });
});

describe('HotTracker', () => {
  const settings = { ...DEFAULT_CLUSTER_SETTINGS.placement, hotWindowMs: 30_000 };
  const loads = (n1: number) => new Map([['n1', n1], ['n2', 10], ['n3', 10]]);

  it('calls a node hot only after a whole window over the ratio, keeps it hot until it is within the target, and cools it down after a move', () => {
    const t = new HotTracker();
    // n1 at 60 of mean 26.7: 2.25×.
    expect(t.observe(loads(60), settings, 0)).toEqual([]);
    expect(t.observe(loads(60), settings, 29_999)).toEqual([]);
    expect(t.observe(loads(60), settings, 30_000).map((h) => h.node)).toEqual(['n1']);
    // Below hotRatio but above the target (1.3×): still hot, load keeps moving.
    expect(t.observe(loads(32), settings, 31_000).map((h) => h.node)).toEqual(['n1']);
    // A move: nothing for the cool-down, then hot again while above the target.
    t.moved('n1', 31_000);
    expect(t.observe(loads(32), settings, 31_000 + COOL_DOWN_MS - 1)).toEqual([]);
    expect(t.observe(loads(32), settings, 31_000 + COOL_DOWN_MS).map((h) => h.node)).toEqual(['n1']);
    // Within the target (1.2×): no longer counted, and a new window is needed.
    expect(t.observe(loads(15), settings, 50_000)).toEqual([]);
    expect(t.observe(loads(60), settings, 51_000)).toEqual([]);
    expect(t.observe(loads(60), settings, 81_000).map((h) => h.node)).toEqual(['n1']);
  });

  it('sees nothing hot on an idle cluster (mean below 1 req/s) or with one node', () => {
    const t = new HotTracker();
    expect(t.observe(new Map([['n1', 0.9], ['n2', 0]]), settings, 0)).toEqual([]);
    expect(t.observe(new Map([['n1', 0.9], ['n2', 0]]), settings, 100_000)).toEqual([]);
    expect(t.observe(new Map([['n1', 500]]), settings, 200_000)).toEqual([]);
  });
});
