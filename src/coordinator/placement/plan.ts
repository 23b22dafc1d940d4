/**
 * The placement planner: from the routing table (and the time), the next
 * steps towards the goal placement. Pure and deterministic: the leader runs
 * it again after every change, so each round only needs to make progress,
 * one step per shard, and the rules are tried in priority order so scarce
 * room and recovery slots go to what matters most (first copies, then a
 * serving primary, then missing copies, then cleanup, then balance).
 * Balance runs only when the input asks for it (`rebalance`).
 */
import type { RoutingState, ShardRecord } from '../routing/index.js';
import { planBalance } from './balance.js';
import { planDepartures } from './departures.js';
import { planFailover } from './failover.js';
import { planFirstAssignment } from './first-assignment.js';
import { planHotspots } from './hotspot.js';
import { anyRecovering } from './ledger.js';
import { planRepair } from './repair.js';
import { startRound, type Round } from './round.js';
import { planTrim } from './trim.js';
import { DEFAULT_GRACE_MS, DEFAULT_SETTLE_MS, type PlacementInput, type PlannedStep } from './types.js';

type ShardRule = (round: Round, shard: ShardRecord) => PlannedStep | undefined;
const SHARD_RULES: readonly ShardRule[] = [planFailover, planRepair, planTrim];

const shardOf = (step: PlannedStep): number | undefined => ('shardId' in step.command ? step.command.shardId : undefined);

/**
 * The next steps towards the goal placement; at most one step per shard; []
 * when nothing is to be done. With `maxSteps`, exactly the first `maxSteps`
 * of the whole plan, found without planning the rest: every step is planned
 * on the steps before it, never on later ones.
 */
export function planPlacement(state: RoutingState, input: PlacementInput): PlannedStep[] {
  // Below 1 would plan nothing, which callers read as a settled table.
  const limit = Math.max(1, input.maxSteps ?? Number.POSITIVE_INFINITY);
  const round = startRound(state, input.nowMs, input.load);
  const steps = planFirstAssignment(round, { settleMs: input.settleMs ?? DEFAULT_SETTLE_MS, graceMs: input.graceMs ?? DEFAULT_GRACE_MS }, limit);
  const planned = new Set<number>();
  for (const step of steps) {
    const shard = shardOf(step);
    if (shard !== undefined) planned.add(shard);
  }
  for (const rule of SHARD_RULES) {
    for (const shard of state.shards) {
      if (steps.length >= limit) return steps;
      if (planned.has(shard.id)) continue;
      const step = rule(round, shard);
      if (step === undefined) continue;
      steps.push(step);
      planned.add(shard.id);
    }
  }
  if (steps.length >= limit) return steps;
  steps.push(...planDepartures(round, planned).slice(0, limit - steps.length));
  // Load moves only on a calm table (nothing else to do): the same hysteresis as balance, and no fight with a repair.
  if (steps.length === 0 && input.load !== undefined && input.load.hot.length > 0) {
    const moves = planHotspots(round, input.load, planned);
    if (moves.length > 0) return moves.slice(0, limit);
  }
  if (steps.length > 0 || anyRecovering(state) || input.rebalance !== true) return steps;
  const balance = planBalance(round);
  return balance === undefined ? [] : [balance];
}

/**
 * Whether a rebalance asked for is done, given the steps planned with
 * `rebalance: true`: nothing else to do and nothing being filled is the only
 * state in which planPlacement tries rule 6, so an empty plan then means
 * balance found nothing to even out (an empty plan while a copy is still
 * being filled only means it has not been asked yet).
 */
export function rebalanceSettled(state: RoutingState, steps: readonly PlannedStep[]): boolean {
  return steps.length === 0 && !anyRecovering(state);
}
