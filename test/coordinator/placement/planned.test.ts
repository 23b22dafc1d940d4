// The planner carrying out planned operations: maintenance and evacuation move every copy away,
// primaries first, never through a node in maintenance, never losing a shard's last in-sync copy.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planPlacement, type PlannedStep } from '../../../src/coordinator/placement/index.js';
import { canServe, copiesOf, evacuationView, nodeById, type RoutingState } from '../../../src/coordinator/routing/index.js';
import { cmd, meta } from '../routing/helpers.js';
import { apply } from '../../../src/coordinator/routing/index.js';
import { T0, applyCommand, applyRound, catchUp, cluster, copiesOn, settle } from './helpers.js';

const placed = (nodes = ['n1', 'n2', 'n3', 'n4'], shards = 8) => settle(cluster(shards, nodes)).state;
const at = T0 + 100_000;

describe('maintenance', () => {
  it('moves every copy off the node, primaries first by handing over to an in-sync replica, and keeps it in maintenance', () => {
    const start = applyCommand(placed(), cmd('setMaintenance', { nodeIds: ['n1'], enabled: true, atMs: at }));
    const led = start.shards.filter((s) => s.primary === 'n1').map((s) => s.id);
    expect(led.length).toBeGreaterThan(0);
    const first = planPlacement(start, { nowMs: at });
    // The first round hands over every primary n1 held (the rest of the copies follow once rebuilt elsewhere).
    const promotions = first.filter((s) => s.command.type === 'promotePrimary').map((s) => ('shardId' in s.command ? s.command.shardId : -1));
    expect(promotions.sort()).toEqual(led.sort());
    expect(first.filter((s) => s.demotes !== null).every((s) => s.demotes === 'n1')).toBe(true);
    const { state } = settle(start, { fromMs: at });
    expect(copiesOn(state, 'n1')).toBe(0);
    expect(nodeById(state, 'n1')?.status).toBe('maintenance');
    for (const shard of state.shards) {
      expect(copiesOf(shard)).toHaveLength(2);
      expect(shard.inSync).toEqual([...copiesOf(shard)].sort());
    }
  });

  it('when its TTL is up the leader ends it; before, nothing', () => {
    const state = applyCommand(placed(), cmd('setMaintenance', { nodeIds: ['n2'], enabled: true, ttlMs: 60_000, atMs: at }));
    const expiry = (nowMs: number) => planPlacement(state, { nowMs }).filter((s) => s.command.type === 'setMaintenance');
    expect(expiry(at + 59_999)).toEqual([]);
    const [step] = expiry(at + 60_000);
    expect(step?.command).toMatchObject({ nodeIds: ['n2'], enabled: false, onlyExpired: true });
    const after = applyCommand(state, step?.command);
    expect(nodeById(after, 'n2')?.status).toBe('unknown');
  });
});

describe('evacuation', () => {
  it('hands over primaries, rebuilds the other copies elsewhere, then ends in maintenance with the progress done', () => {
    const start = applyCommand(placed(), cmd('startEvacuation', { nodeId: 'n3', atMs: at }));
    const total = copiesOn(start, 'n3');
    const { state, steps } = settle(start, { fromMs: at });
    expect(nodeById(state, 'n3')).toMatchObject({ status: 'maintenance', evacuation: { state: 'done', total } });
    expect(evacuationView(state, 'n3', at + 1)).toMatchObject({ moved: total, remaining: 0, etaMs: 0, stalledReason: null });
    expect(steps.filter((s) => s.command.type === 'finishEvacuation')).toHaveLength(1);
  });

  it('keeps the evacuating copy until the copy rebuilt elsewhere is in sync, even when no other node could take one', () => {
    let state = settle(cluster(1, ['n2', 'n3'])).state;
    state = applyCommand(state, { ...cmd('registerNode', { nodeId: 'n1', address: '127.0.0.1:8081', capacity: 16, version: '' }), atMs: at });
    state = applyCommand(state, cmd('startEvacuation', { nodeId: 'n3', atMs: at }));
    // Rounds without recovery finishing: n1 is added (and n3's primary handed over), but n3's copy stays.
    for (let i = 0; i < 5; i++) state = applyRound(state, planPlacement(state, { nowMs: at + i }));
    const shard = state.shards[0]!;
    expect(copiesOf(shard).sort()).toEqual(['n1', 'n2', 'n3']);
    expect(shard.inSync).not.toContain('n1');
    // Once n1 is in sync, n3's copy goes and the evacuation ends.
    const done = settle(catchUp(state, at + 10).state, { fromMs: at + 10 }).state;
    expect(copiesOf(done.shards[0]!).sort()).toEqual(['n1', 'n2']);
    expect(nodeById(done, 'n3')?.status).toBe('maintenance');
  });

  it('says why it is stalled when a copy can go nowhere, and clears it once it can go on', () => {
    // Replication factor 1: n2 has no room, so n1's copies (the only ones) cannot move.
    let state = settle(cluster(2, [{ id: 'n1' }, { id: 'n2', capacity: 0 }], { replicationFactor: 1 })).state;
    state = applyCommand(state, cmd('startEvacuation', { nodeId: 'n1', atMs: at }));
    const steps = planPlacement(state, { nowMs: at });
    expect(steps.map((s) => s.command)).toEqual([
      expect.objectContaining({ type: 'setEvacuationStall', nodeId: 'n1', stalledReason: expect.stringMatching(/^shard 0: no other node can take a copy .* n1 holds its only in-sync copy \(and 1 more shard stuck\)$/) }),
    ]);
    state = applyRound(state, steps);
    expect(evacuationView(state, 'n1', at)?.stalledReason).toMatch(/no other node can take a copy/);
    // The same round again proposes nothing new.
    expect(planPlacement(state, { nowMs: at + 1 })).toEqual([]);
    // Room appears: the evacuation goes on, the stall is cleared, and it ends.
    state = applyCommand(state, { ...cmd('registerNode', { nodeId: 'n2', address: '127.0.0.1:8082', capacity: 16, version: '' }), atMs: at + 2 });
    const next = planPlacement(state, { nowMs: at + 2 });
    expect(next.map((s) => s.command.type)).toContain('setEvacuationStall');
    const done = settle(state, { fromMs: at + 2 }).state;
    expect(nodeById(done, 'n1')?.status).toBe('maintenance');
    expect(evacuationView(done, 'n1', at + 3)).toMatchObject({ state: 'done', remaining: 0, stalledReason: null });
  });
});

/** Applies one step, checking what a planned move may never do. */
function checkedStep(before: RoutingState, step: PlannedStep): RoutingState {
  const out = apply(before, step.command, meta());
  if (!out.result.ok) throw new Error(`${step.command.type} refused: ${out.result.message}`);
  const after = out.state;
  for (const shard of after.shards) {
    const old = before.shards[shard.id];
    if (old === undefined) continue;
    for (const id of copiesOf(shard)) {
      const status = nodeById(after, id)?.status;
      if (!copiesOf(old).includes(id)) expect(status === 'maintenance' || status === 'evacuating', `shard ${shard.id} got a copy on ${id} (${status})`).toBe(false);
    }
    const servedInSync = (s: typeof shard, st: RoutingState) => s.inSync.some((id) => canServe(nodeById(st, id)?.status ?? 'left'));
    if (servedInSync(old, before)) expect(servedInSync(shard, after), `shard ${shard.id} lost its last in-sync copy through ${step.command.type}`).toBe(true);
  }
  return after;
}

describe('planned operations, properties', () => {
  it('a node in maintenance or evacuating never receives a copy, no shard loses its last in-sync copy, and with room every such node ends empty', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(
        fc.record({
          shards: fc.integer({ min: 1, max: 10 }),
          factor: fc.integer({ min: 1, max: 3 }),
          nodes: fc.integer({ min: 2, max: 6 }),
          capacity: fc.integer({ min: 1, max: 12 }),
          plans: fc.array(fc.constantFrom('stay', 'maintenance', 'evacuate'), { minLength: 6, maxLength: 6 }),
          perNode: fc.integer({ min: 1, max: 3 }),
        }),
        ({ shards, factor, nodes, capacity, plans, perNode }) => {
          const ids = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
          let state = settle(cluster(shards, ids.map((id) => ({ id, capacity })), { replicationFactor: factor, recovery: { maxConcurrentPerNode: perNode, maxConcurrentPerCluster: perNode + 1, replaceDelayMs: 0 } })).state;
          const planned: string[] = [];
          ids.forEach((id, i) => {
            const plan = plans[i] ?? 'stay';
            if (plan === 'stay') return;
            const c = plan === 'maintenance' ? cmd('setMaintenance', { nodeIds: [id], enabled: true, atMs: at }) : cmd('startEvacuation', { nodeId: id, atMs: at });
            const out = apply(state, c, meta());
            if (out.result.ok) (state = out.state, planned.push(id));
          });
          let nowMs = at;
          for (let round = 0; round < 40 + 12 * shards * factor; round++, nowMs += 1_000) {
            const steps = planPlacement(state, { nowMs });
            for (const step of steps) state = checkedStep(state, step);
            const caught = catchUp(state, nowMs);
            state = caught.state;
            if (steps.length === 0 && caught.caughtUp === 0) break;
          }
          // Maintenance was refused unless the others could hold every copy; evacuation may stall where there is no room.
          const roomy = ids.filter((id) => !planned.includes(id)).length >= factor && (nodes - planned.length) * capacity >= shards * factor;
          if (roomy) for (const id of planned) expect(copiesOn(state, id), `${id} still holds copies`).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
