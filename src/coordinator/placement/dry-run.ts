/**
 * The dry run (`POST /cluster/plan`): what the planner would do if nodes
 * failed, drained, went into maintenance or joined. The change is made on a
 * copy of the table by the same commands the real operation proposes, then
 * the same pure planner runs round after round, each step applied by the real
 * `apply`, every copy being filled taken to have caught up between rounds and
 * time jumping ahead when only a wait (the replacement delay) holds things
 * up, until nothing is left to do. Nothing of the real table changes.
 */
import { apply, copiesOf, nodeById, nodeShardCounts, type Command, type RoutingState } from '../routing/index.js';
import { isStaying } from './node-roles.js';
import { planPlacement, rebalanceSettled } from './plan.js';
import type { PlannedStep } from './types.js';

export interface JoinSpec {
  readonly id: string;
  readonly capacity: number;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface PlanScenario {
  readonly fail?: readonly string[];
  readonly drain?: readonly string[];
  readonly maintenance?: readonly string[];
  readonly join?: readonly JoinSpec[];
}

export interface PlannedMove {
  readonly shard: number | null;
  readonly command: Command['type'];
  /** The node the step is about: the one promoted, given a copy, losing one, or changing status. */
  readonly node: string | null;
  readonly reason: string;
}

export interface DryRunResult {
  readonly moves: readonly PlannedMove[];
  readonly result: {
    readonly nodes: Readonly<Record<string, { copies: number; primaries: number }>>;
    readonly under_replicated: readonly number[];
  };
  /** What the scenario itself ran into (a change the table refuses, the storm guard), and a plan cut short. */
  readonly notes: readonly string[];
}

export interface DryRunOptions {
  readonly nowMs: number;
  /** Planning rounds at most (default 10,000): a plan that does not settle within them says so in `notes`. */
  readonly maxRounds?: number;
}

/** The copy's events are never read: one log position for all of them. */
const meta = () => ({ index: 0, term: 0 });

function subjectNode(before: RoutingState, c: Command): string | null {
  switch (c.type) {
    case 'promotePrimary':
    case 'setInSync':
    case 'setNodeStatus':
    case 'finishEvacuation':
    case 'setEvacuationStall':
      return c.nodeId;
    case 'assignShard':
      return c.primary;
    case 'moveShard': {
      const old = before.shards[c.shardId];
      const was = old === undefined ? [] : copiesOf(old);
      const now = [...(c.primary === null ? [] : [c.primary]), ...c.replicas];
      return now.find((id) => !was.includes(id)) ?? was.find((id) => !now.includes(id)) ?? c.primary;
    }
    case 'setMaintenance':
      return c.nodeIds.join(',');
    default:
      return null;
  }
}

function scenarioCommands(scenario: PlanScenario, nowMs: number, voters: number): Command[] {
  const base = (reason: string) => ({ atMs: nowMs, reason: `dry run: ${reason}` });
  const all = (id: string) => Array.from({ length: voters }, (_, i) => `${id}-voter-${i}`);
  return [
    ...(scenario.join ?? []).map(
      (j): Command => ({ type: 'registerNode', ...base(`${j.id} joins`), nodeId: j.id, address: '0.0.0.0:1', capacity: j.capacity, version: '', labels: { ...j.labels } }),
    ),
    ...(scenario.fail ?? []).map(
      (id): Command => ({ type: 'setNodeStatus', ...base(`${id} fails`), nodeId: id, status: 'unhealthy', confirmedBy: all(id), voters }),
    ),
    ...(scenario.drain ?? []).map((id): Command => ({ type: 'setNodeStatus', ...base(`${id} drains`), nodeId: id, status: 'draining' })),
    ...((scenario.maintenance ?? []).length === 0
      ? []
      : [{ type: 'setMaintenance', ...base('maintenance'), nodeIds: [...(scenario.maintenance ?? [])], enabled: true } as Command]),
  ];
}

/** Every copy being filled on a node that serves is in sync (what recovery does between two rounds). */
function catchUp(state: RoutingState, nowMs: number): { state: RoutingState; caughtUp: number } {
  let caughtUp = 0;
  for (const shard of state.shards) {
    if (shard.primary === null) continue;
    for (const r of shard.replicas) {
      const node = nodeById(state, r);
      if (shard.inSync.includes(r) || node === undefined || !isStaying(node.status)) continue;
      const current = state.shards[shard.id];
      const c: Command = { type: 'setInSync', atMs: nowMs, reason: 'dry run: caught up', shardId: shard.id, expectedEpoch: current?.epoch ?? 0, nodeId: r, inSync: true };
      const out = apply(state, c, meta());
      if (out.result.ok) (state = out.state), caughtUp++;
    }
  }
  return { state, caughtUp };
}

/** When the next wait ends (a failed node's copies stop counting), after `nowMs`, or null. */
function nextWake(state: RoutingState, nowMs: number): number | null {
  const delay = state.config.settings.recovery.replaceDelayMs;
  let wake: number | null = null;
  for (const node of Object.values(state.nodes)) {
    if (node.status !== 'unhealthy') continue;
    const at = node.statusChangedAtMs + delay;
    if (at > nowMs && (wake === null || at < wake)) wake = at;
  }
  return wake;
}

function summary(state: RoutingState): DryRunResult['result'] {
  const nodes: Record<string, { copies: number; primaries: number }> = {};
  for (const [id, load] of Object.entries(nodeShardCounts(state))) nodes[id] = { copies: load.total, primaries: load.primaries };
  const factor = state.config.settings.replicationFactor;
  const under = state.shards.filter((s) => copiesOf(s).filter((id) => isStaying(nodeById(state, id)?.status ?? 'left')).length < factor).map((s) => s.id);
  return { nodes, under_replicated: under };
}

/** The moves the planner would make, in order, after the scenario's changes; the table given is not changed. */
export function dryRun(state: RoutingState, scenario: PlanScenario, opts: DryRunOptions): DryRunResult {
  const notes: string[] = [];
  let nowMs = opts.nowMs;
  const voters = Math.max(1, Object.values(state.members).filter((m) => m.role === 'voter').length);
  for (const c of scenarioCommands(scenario, nowMs, voters)) {
    const out = apply(state, c, meta());
    if (out.result.ok) state = out.state;
    else notes.push(`${c.reason.replace(/^dry run: /, '')}: refused (${out.result.code}): ${out.result.message}`);
  }
  let rebalance = (scenario.join ?? []).length > 0;
  const moves: PlannedMove[] = [];
  const maxRounds = opts.maxRounds ?? 10_000;
  for (let round = 0; ; round++) {
    if (round >= maxRounds) {
      notes.push(`the plan did not settle within ${maxRounds} rounds; the moves shown are the first ones`);
      break;
    }
    const steps: PlannedStep[] = planPlacement(state, { nowMs, rebalance, settleMs: 0, graceMs: 0 });
    if (rebalance && rebalanceSettled(state, steps)) rebalance = false;
    let refused = false;
    for (const step of steps) {
      const before = state;
      const out = apply(state, step.command, meta());
      if (!out.result.ok) {
        // The real driver stops the round at a refusal and plans again; so does the dry run.
        refused = true;
        break;
      }
      state = out.state;
      const c = step.command;
      moves.push({ shard: 'shardId' in c ? c.shardId : null, command: c.type, node: subjectNode(before, c), reason: c.reason });
    }
    const recovered = catchUp(state, nowMs);
    state = recovered.state;
    if (steps.length > 0 || recovered.caughtUp > 0 || refused) {
      nowMs += 1;
      continue;
    }
    const wake = nextWake(state, nowMs);
    if (wake === null) break;
    nowMs = wake;
  }
  return { moves, result: summary(state), notes };
}
