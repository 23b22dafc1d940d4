/**
 * Rule 7: load. When the leader has seen a node carry at least
 * `placement.hotRatio` times the mean node load for `placement.hotWindowMs`
 * (the placement driver's hot tracker decides that, with hysteresis and a
 * cool-down, and names the node in the input), its hottest shards move off
 * it until it would be at or below the mean times `TARGET_RATIO`, each
 * shard the cheapest way that lands its receiver within that target too:
 * 1. a handoff of the primary to an in-sync replica (nothing copied);
 * 2. else a relocation: a cool node gets a copy, filled from the primary;
 *    once it is in sync, the trim of the surplus (`planLoadTrim`, run by
 *    rule 4) hands it the primary and drops the hot node's copy in one
 *    step — never the new copy, which would undo the move;
 * 3. else a handoff that still lowers the hot node without making the
 *    receiver hot (`hotRatio`), when no receiver fits the target.
 * A receiver that stays within the target is not hot afterwards, and the
 * hot node's load falls: nothing moves back (no flapping). Loads are
 * requests per second; a shard's load goes with its primary (the primary
 * serves its reads and writes). A relocation in progress (a copy being
 * filled on a shard with a surplus) is counted as done, so the next round
 * does not send the same load elsewhere too.
 */
import { copiesOf, nodeById, type ShardRecord } from '../routing/index.js';
import { isEligible, isStaying, keepsPrimary } from './node-roles.js';
import { cmpId, countedCopies, targetsFor, type Round } from './round.js';
import { moveStep, promoteStep } from './steps.js';
import type { PlannedStep } from './types.js';

/** What the leader measured (requests per second) and which nodes it found hot (none: no load moves, but the trim still reads the loads). */
export interface LoadInput {
  readonly nodes: ReadonlyMap<string, number>;
  readonly shards: ReadonlyMap<number, number>;
  readonly hot: readonly { readonly node: string; readonly ratio: number }[];
}

/** Load moves off a hot node until it would carry at most this many times the mean. */
export const TARGET_RATIO = 1.3;

const fmt = (n: number) => (Math.round(n * 10) / 10).toString();

/** The eligible nodes' loads and their mean; undefined when there is nothing to compare. */
function nodeLoads(round: Round, load: LoadInput): { projected: Map<string, number>; mean: number } | undefined {
  const eligible = round.nodes.filter(isEligible);
  if (eligible.length < 2) return undefined;
  const projected = new Map(eligible.map((n) => [n.id, load.nodes.get(n.id) ?? 0]));
  const mean = [...projected.values()].reduce((a, b) => a + b, 0) / eligible.length;
  return mean > 0 ? { projected, mean } : undefined;
}

/** A copy of the shard being filled on a node that stays (not in sync yet): a relocation or a repair in progress. */
const fillingCopy = (round: Round, shard: ShardRecord): string | undefined =>
  shard.replicas.find((id) => !shard.inSync.includes(id) && isStaying(nodeById(round.state, id)?.status ?? 'left'));

export function planHotspots(round: Round, load: LoadInput, planned: ReadonlySet<number>): PlannedStep[] {
  const loads = nodeLoads(round, load);
  if (loads === undefined || load.hot.length === 0) return [];
  const { projected, mean } = loads;
  const target = mean * TARGET_RATIO;
  const notHot = mean * round.settings.placement.hotRatio;
  const shardLoad = (s: ShardRecord) => load.shards.get(s.id) ?? 0;
  const taken = new Set(planned);
  // Relocations in progress: their load is on its way to the copy being filled.
  for (const s of round.state.shards) {
    const to = fillingCopy(round, s);
    if (s.primary === null || to === undefined || countedCopies(round, s).length <= round.settings.replicationFactor) continue;
    if (!projected.has(s.primary) || !projected.has(to)) continue;
    projected.set(s.primary, (projected.get(s.primary) ?? 0) - shardLoad(s));
    projected.set(to, (projected.get(to) ?? 0) + shardLoad(s));
    taken.add(s.id);
  }
  const at = (id: string) => projected.get(id) ?? 0;
  const steps: PlannedStep[] = [];
  for (const { node: hot, ratio } of [...load.hot].sort((a, b) => b.ratio - a.ratio || cmpId(a.node, b.node))) {
    if (!projected.has(hot)) continue;
    const led = round.state.shards
      .filter((s) => s.primary === hot && !taken.has(s.id) && s.state === 'active' && shardLoad(s) > 0)
      .sort((a, b) => shardLoad(b) - shardLoad(a) || a.id - b.id);
    for (const shard of led) {
      const here = at(hot);
      if (here <= target) break;
      const l = shardLoad(shard);
      const why = `load: ${hot} at ${fmt(ratio)}× mean (${fmt(here)} of mean ${fmt(mean)} req/s); shard ${shard.id} serves ${fmt(l)} req/s`;
      const coolest = (ids: readonly string[]) => [...ids].sort((a, b) => at(a) - at(b) || cmpId(a, b))[0];
      const replicas = shard.inSync.filter((id) => id !== hot && projected.has(id) && keepsPrimary(nodeById(round.state, id)));
      const moved = (to: string) => {
        projected.set(hot, here - l);
        projected.set(to, at(to) + l);
        taken.add(shard.id);
      };
      const fitting = coolest(replicas.filter((id) => at(id) + l <= target));
      if (fitting !== undefined) {
        const text = `${why}; ${fitting} (in sync, ${fmt(at(fitting))} req/s) takes it over`;
        moved(fitting);
        round.ledger.movePrimary(hot, fitting);
        steps.push({ ...promoteStep(shard, fitting, round.nowMs, text), hotNode: hot });
        continue;
      }
      const limits = round.settings.recovery;
      const copyTo = coolest(targetsFor(round, shard).map((n) => n.id).filter((id) => projected.has(id) && at(id) + l <= target && round.ledger.mayRecoverOnto(id, limits)));
      if (copyTo !== undefined) {
        const text = `${why}; no in-sync replica can take it within ${TARGET_RATIO}× mean, so ${copyTo} (${fmt(at(copyTo))} req/s) gets a copy to take it over`;
        moved(copyTo);
        round.ledger.addCopy(copyTo, { primary: false, recovering: true });
        steps.push({ ...moveStep(shard, shard.primary, [...shard.replicas, copyTo], round.nowMs, text), hotNode: hot });
        continue;
      }
      // Nothing fits the target: a handoff that still helps, without making its receiver hot.
      const helps = coolest(replicas.filter((id) => at(id) + l < here && at(id) + l < notHot));
      if (helps !== undefined) {
        const text = `${why}; ${helps} (in sync, ${fmt(at(helps))} req/s) takes it over`;
        moved(helps);
        round.ledger.movePrimary(hot, helps);
        steps.push({ ...promoteStep(shard, helps, round.nowMs, text), hotNode: hot });
      }
    }
  }
  return steps;
}

/**
 * The surplus of a shard whose primary sits on a node above the target (a
 * relocation's copy is in sync now): the primary goes to the coolest in-sync
 * copy that takes the shard's load without ending up hot (`hotRatio`) or
 * hotter than the primary's node was, and the hot node's copy is dropped in
 * the same step (the driver fences it first, as for every demotion). Undefined
 * when that is not the case: rule 4 then trims by copy counts.
 */
export function planLoadTrim(round: Round, shard: ShardRecord, counted: readonly string[], load: LoadInput | undefined): PlannedStep | undefined {
  const from = shard.primary;
  if (load === undefined || from === null || !counted.every((id) => shard.inSync.includes(id))) return undefined;
  const loads = nodeLoads(round, load);
  const l = load.shards.get(shard.id) ?? 0;
  if (loads === undefined || l <= 0) return undefined;
  const here = load.nodes.get(from) ?? 0;
  if (here <= loads.mean * TARGET_RATIO) return undefined;
  const notHot = loads.mean * round.settings.placement.hotRatio;
  const at = (id: string) => load.nodes.get(id) ?? 0;
  const to = counted
    .filter((id) => id !== from && loads.projected.has(id) && keepsPrimary(nodeById(round.state, id)) && at(id) + l < Math.min(here, notHot))
    .sort((a, b) => at(a) - at(b) || cmpId(a, b))[0];
  if (to === undefined) return undefined;
  round.ledger.movePrimary(from, to);
  const why =
    `load: ${from} at ${fmt(here / loads.mean)}× mean (${fmt(here)} of mean ${fmt(loads.mean)} req/s); shard ${shard.id} serves ${fmt(l)} req/s; ` +
    `${copiesOf(shard).length} copies where ${round.settings.replicationFactor} are wanted: ${to} (in sync, ${fmt(at(to))} req/s) leads it and ${from}'s copy is dropped`;
  return { ...moveStep(shard, to, shard.replicas.filter((r) => r !== to), round.nowMs, why), hotNode: from };
}
