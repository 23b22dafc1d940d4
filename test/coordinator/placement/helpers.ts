// Driving the planner against the real routing table: every step applied, and checked on the way.
import { expect } from 'vitest';
import { planPlacement, type PlacementInput, type PlannedStep } from '../../../src/coordinator/placement/index.js';
import {
  acceptsNewCopies,
  apply,
  canServe,
  copiesOf,
  initialState,
  invariantViolations,
  nodeById,
  nodeShardCounts,
  nodesInOrder,
  type InitialStateInput,
  type NodeStatus,
  type RoutingState,
} from '../../../src/coordinator/routing/index.js';
import { cmd, meta, register, T0 } from '../routing/helpers.js';

export { T0 };

type SettingsInput = NonNullable<InitialStateInput['settings']>;

export interface NodeSpec {
  readonly id: string;
  readonly capacity?: number;
  readonly atMs?: number;
  readonly labels?: Readonly<Record<string, string>>;
}

/** A table of `shards` shards with the given nodes registered (status unknown, capacity 16 unless given). */
export function cluster(shards: number, nodes: readonly (string | NodeSpec)[], settings: SettingsInput = {}): RoutingState {
  let state = initialState({ clusterId: 'placement', shards, settings: { minHealthyFraction: 0, ...settings } });
  for (const n of nodes) state = join(state, typeof n === 'string' ? { id: n } : n);
  return state;
}

export function join(state: RoutingState, n: NodeSpec): RoutingState {
  return applyCommand(state, { ...register(n.id, { capacity: n.capacity ?? 16, ...(n.labels === undefined ? {} : { labels: { ...n.labels } }) }), atMs: n.atMs ?? T0 });
}

/** Sets a node's status as an operator or the failure detector would (a majority confirming a failure). */
export function setStatus(state: RoutingState, nodeId: string, status: NodeStatus, atMs = T0): RoutingState {
  return applyCommand(state, statusCommand(nodeId, status, atMs));
}

export const statusCommand = (nodeId: string, status: NodeStatus, atMs: number) =>
  status === 'unhealthy'
    ? cmd('setNodeStatus', { nodeId, status, confirmedBy: ['c1', 'c2'], voters: 3, atMs })
    : cmd('setNodeStatus', { nodeId, status, atMs });

export function applyCommand(state: RoutingState, c: unknown): RoutingState {
  const out = apply(state, c, meta());
  if (!out.result.ok) throw new Error(`${JSON.stringify(c)} was rejected: ${out.result.code} ${out.result.message}`);
  return out.state;
}

/**
 * Applies one round of steps in order, checking what every step must be: at
 * most one per shard, at the shard's current epoch, accepted by apply, and
 * `demotes` naming exactly the node that lost the primary.
 */
export function applyRound(state: RoutingState, steps: readonly PlannedStep[]): RoutingState {
  const seen = new Set<number>();
  const start = state;
  for (const step of steps) {
    const c = step.command;
    if ('shardId' in c) {
      expect(seen.has(c.shardId), `two steps for shard ${c.shardId}`).toBe(false);
      seen.add(c.shardId);
      expect(c.expectedEpoch).toBe(start.shards[c.shardId]?.epoch);
    }
    const before = 'shardId' in c ? state.shards[c.shardId]?.primary : undefined;
    state = applyCommand(state, c);
    if ('shardId' in c) {
      const after = state.shards[c.shardId]?.primary;
      expect(step.demotes, `demotes of ${c.type} on shard ${c.shardId}`).toBe(after !== before ? (before ?? null) : null);
    } else {
      expect(step.demotes).toBeNull();
    }
    expect(invariantViolations(state)).toEqual([]);
  }
  return state;
}

/** What recovery does between rounds: every replica being filled on a node that serves catches up. */
export function catchUp(state: RoutingState, atMs: number): { state: RoutingState; caughtUp: number } {
  let caughtUp = 0;
  for (const shard of state.shards) {
    if (shard.primary === null) continue;
    for (const r of shard.replicas) {
      const node = nodeById(state, r);
      if (shard.inSync.includes(r) || node === undefined || !canServe(node.status)) continue;
      const current = state.shards[shard.id];
      state = applyCommand(state, cmd('setInSync', { shardId: shard.id, expectedEpoch: current?.epoch ?? 0, nodeId: r, inSync: true, atMs }));
      caughtUp++;
    }
  }
  return { state, caughtUp };
}

export interface Settled {
  readonly state: RoutingState;
  readonly rounds: number;
  readonly nowMs: number;
  readonly steps: PlannedStep[];
}

/**
 * Plans, applies and catches up, round after round (time advancing `stepMs`
 * each), until a round plans nothing and recovers nothing once every wait has
 * passed. Fails if that takes more than `maxRounds`.
 */
export function settle(
  state: RoutingState,
  opts: { fromMs?: number; stepMs?: number; maxRounds?: number; quietAfterMs?: number; input?: Omit<PlacementInput, 'nowMs'> } = {},
): Settled {
  const from = opts.fromMs ?? T0;
  const stepMs = opts.stepMs ?? 1_000;
  const maxRounds = opts.maxRounds ?? 500;
  const quietAfter = from + (opts.quietAfterMs ?? 10_000 + state.config.settings.recovery.replaceDelayMs);
  const all: PlannedStep[] = [];
  for (let round = 0; round < maxRounds; round++) {
    const nowMs = from + round * stepMs;
    const steps = planPlacement(state, { ...opts.input, nowMs });
    expect(planPlacement(state, { ...opts.input, nowMs }), 'the same table plans the same steps').toEqual(steps);
    state = applyRound(state, steps);
    all.push(...steps);
    const recovered = catchUp(state, nowMs);
    state = recovered.state;
    if (steps.length === 0 && recovered.caughtUp === 0 && nowMs >= quietAfter) return { state, rounds: round + 1, nowMs, steps: all };
  }
  throw new Error(`placement did not settle within ${maxRounds} rounds`);
}

/** Copies per node (zeros included), in id order. */
export const copyLoads = (state: RoutingState): Record<string, number> =>
  Object.fromEntries(Object.entries(nodeShardCounts(state)).map(([id, l]) => [id, l.total]));
export const primaryLoads = (state: RoutingState): Record<string, number> =>
  Object.fromEntries(Object.entries(nodeShardCounts(state)).map(([id, l]) => [id, l.primaries]));

export const sortedValues = (r: Record<string, number>): number[] => Object.values(r).sort((a, b) => a - b);

export const eligibleNodes = (state: RoutingState) => nodesInOrder(state).filter((n) => acceptsNewCopies(n.status));

export const copiesOn = (state: RoutingState, nodeId: string): number => state.shards.filter((s) => copiesOf(s).includes(nodeId)).length;
