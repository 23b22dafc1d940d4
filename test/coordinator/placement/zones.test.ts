// Zones and even counts: copies in distinct zones where the nodes allow it, zoneStrict rather under-replicates,
// a lost zone loses nothing, and after a join and a rebalance copies and primaries are within ⌈mean⌉.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planPlacement } from '../../../src/coordinator/placement/index.js';
import { apply, canServe, copiesOf, nodeById, type RoutingState } from '../../../src/coordinator/routing/index.js';
import { meta } from '../routing/helpers.js';
import { T0, applyCommand, cluster, copyLoads, eligibleNodes, join, primaryLoads, setStatus, settle, type NodeSpec } from './helpers.js';

const TIMEOUT = { timeout: 60_000 };
const zoneOf = (state: RoutingState, id: string) => nodeById(state, id)?.labels['zone'];
const zonesOf = (state: RoutingState, copies: readonly string[]) => new Set(copies.map((id) => zoneOf(state, id)));

/** Nodes n1..nN spread over the zones given per node. */
const zoned = (zones: readonly string[], capacity = 32): NodeSpec[] => zones.map((zone, i) => ({ id: `n${i + 1}`, capacity, labels: { zone } }));

const zoneList = fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1, maxLength: 7 });

describe('zones', () => {
  it('puts the copies of every shard in as many distinct zones as the nodes span (up to the factor)', TIMEOUT, () => {
    fc.assert(
      fc.property(zoneList, fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 3 }), (zones, shards, factor) => {
        fc.pre(factor <= zones.length);
        const { state } = settle(cluster(shards, zoned(zones), { replicationFactor: factor }));
        const distinct = new Set(zones).size;
        for (const shard of state.shards) {
          expect(copiesOf(shard)).toHaveLength(factor);
          expect(zonesOf(state, copiesOf(shard)).size).toBe(Math.min(factor, distinct));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('with zoneStrict, a shard rather stays under-replicated than puts two copies in one zone', TIMEOUT, () => {
    fc.assert(
      fc.property(zoneList, fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 3 }), (zones, shards, factor) => {
        const { state } = settle(cluster(shards, zoned(zones), { replicationFactor: factor, placement: { zoneStrict: true } }));
        const distinct = new Set(zones).size;
        for (const shard of state.shards) {
          const copies = copiesOf(shard);
          expect(copies).toHaveLength(Math.min(factor, distinct));
          expect(zonesOf(state, copies).size).toBe(copies.length);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('losing a whole zone at RF 2 with two zones loses no shard: each keeps a serving in-sync copy and is whole again', () => {
    const nodes = zoned(['a', 'a', 'a', 'b', 'b', 'b']);
    let state = settle(cluster(24, nodes, { replicationFactor: 2 })).state;
    const at = T0 + 100_000;
    for (const id of ['n1', 'n2', 'n3']) state = setStatus(state, id, 'unhealthy', at);
    for (const shard of state.shards) {
      expect(shard.inSync.some((id) => canServe(nodeById(state, id)?.status ?? 'left')), `shard ${shard.id}`).toBe(true);
    }
    const after = settle(state, { fromMs: at }).state;
    for (const shard of after.shards) {
      expect(shard.primary !== null && zoneOf(after, shard.primary)).toBe('b');
      expect(copiesOf(shard).every((id) => zoneOf(after, id) === 'b')).toBe(true);
    }
  });

  it('a rebalance spreads the copies of a shard placed in one zone once another zone has room', () => {
    // Placed before any labels: then zones are set, and a rebalance makes the copies span both.
    let state = settle(cluster(8, zoned(['a', 'a', 'b', 'b']).map((n) => ({ ...n, labels: {} })))).state;
    for (const [id, zone] of [['n1', 'a'], ['n2', 'a'], ['n3', 'b'], ['n4', 'b']] as const) {
      state = applyCommand(state, { type: 'setNodeLabels', atMs: T0, reason: 'test', nodeId: id, labels: { zone } });
    }
    const after = settle(state, { fromMs: T0 + 100_000, input: { rebalance: true } }).state;
    for (const shard of after.shards) expect(zonesOf(after, copiesOf(shard)).size).toBe(2);
  });
});

describe('even copies and primaries after a join and a rebalance', () => {
  const ceilMean = (loads: Record<string, number>) => Math.ceil(Object.values(loads).reduce((a, b) => a + b, 0) / Object.keys(loads).length);

  it('no node holds more than ⌈mean⌉ copies or primaries, never more than its capacity', TIMEOUT, () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }), (nodes, shards, factor, joining) => {
        fc.pre(factor <= nodes);
        const ids = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
        let state = settle(cluster(shards, ids, { replicationFactor: factor })).state;
        for (let j = 0; j < joining; j++) state = join(state, { id: `m${j + 1}`, atMs: T0 + 100_000 });
        state = settle(state, { fromMs: T0 + 100_000, input: { rebalance: true } }).state;
        const eligible = new Set(eligibleNodes(state).map((n) => n.id));
        const only = (loads: Record<string, number>) => Object.fromEntries(Object.entries(loads).filter(([id]) => eligible.has(id)));
        const copies = only(copyLoads(state));
        const primaries = only(primaryLoads(state));
        for (const [id, n] of Object.entries(copies)) {
          expect(n, `copies on ${id}`).toBeLessThanOrEqual(ceilMean(copies));
          expect(n).toBeLessThanOrEqual(nodeById(state, id)?.capacity ?? 0);
        }
        for (const [id, n] of Object.entries(primaries)) expect(n, `primaries on ${id}`).toBeLessThanOrEqual(ceilMean(primaries));
      }),
      { numRuns: 60 },
    );
  });

  it('a step planned on a table that has moved on is refused by its epoch', () => {
    const placed = settle(cluster(4, ['n1', 'n2', 'n3'])).state;
    const state = join(placed, { id: 'n4', atMs: T0 + 100_000 });
    const [step] = planPlacement(state, { nowMs: T0 + 100_000, rebalance: true });
    expect(step).toBeDefined();
    const c = step!.command;
    if (!('shardId' in c)) throw new Error('a balance step names a shard');
    const shard = state.shards[c.shardId]!;
    const other = copiesOf(shard).find((id) => id !== shard.primary)!;
    // Something else changes the shard first: the planned step no longer applies.
    const moved = applyCommand(state, { type: 'setInSync', atMs: T0, reason: 'test', shardId: shard.id, expectedEpoch: shard.epoch, nodeId: other, inSync: false });
    const out = apply(moved, c, meta());
    expect(out.result).toMatchObject({ ok: false, code: 'STALE_EPOCH' });
    expect(out.state).toBe(moved);
  });
});
