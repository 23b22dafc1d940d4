/**
 * Rule 7: load. When the leader has seen a node carry at least
 * `placement.hotRatio` times the mean node load for `placement.hotWindowMs`
 * (the placement driver's hot tracker decides that, with hysteresis and a
 * cool-down, and names the node in the input), its hottest shards'
 * primaries move to in-sync replicas on the least loaded nodes — a handoff,
 * nothing copied — until it would be at or below the mean times
 * `TARGET_RATIO`. Only handoffs: a copy added for load would be the surplus
 * the trim rule drops again (it knows nothing of load), so a hot shard with
 * no in-sync replica on a cooler node stays (said in the README). Loads are
 * requests per second; a shard's load goes with its primary (the primary
 * serves its reads and writes).
 */
import { nodeById, type ShardRecord } from '../routing/index.js';
import { isEligible, keepsPrimary } from './node-roles.js';
import { cmpId, type Round } from './round.js';
import { promoteStep } from './steps.js';
import type { PlannedStep } from './types.js';

/** What the leader measured (requests per second) and which nodes it found hot. */
export interface LoadInput {
  readonly nodes: ReadonlyMap<string, number>;
  readonly shards: ReadonlyMap<number, number>;
  readonly hot: readonly { readonly node: string; readonly ratio: number }[];
}

/** Load moves off a hot node until it would carry at most this many times the mean. */
export const TARGET_RATIO = 1.3;

const fmt = (n: number) => (Math.round(n * 10) / 10).toString();

export function planHotspots(round: Round, load: LoadInput, planned: ReadonlySet<number>): PlannedStep[] {
  const eligible = round.nodes.filter(isEligible);
  if (eligible.length < 2 || load.hot.length === 0) return [];
  const projected = new Map(eligible.map((n) => [n.id, load.nodes.get(n.id) ?? 0]));
  const mean = [...projected.values()].reduce((a, b) => a + b, 0) / eligible.length;
  if (mean <= 0) return [];
  const taken = new Set(planned);
  const steps: PlannedStep[] = [];
  const shardLoad = (s: ShardRecord) => load.shards.get(s.id) ?? 0;
  for (const { node: hot, ratio } of [...load.hot].sort((a, b) => b.ratio - a.ratio || cmpId(a.node, b.node))) {
    if (!projected.has(hot)) continue;
    const led = round.state.shards
      .filter((s) => s.primary === hot && !taken.has(s.id) && s.state === 'active' && shardLoad(s) > 0)
      .sort((a, b) => shardLoad(b) - shardLoad(a) || a.id - b.id);
    for (const shard of led) {
      const here = projected.get(hot) ?? 0;
      if (here <= mean * TARGET_RATIO) break;
      const l = shardLoad(shard);
      const why = `load: ${hot} at ${fmt(ratio)}× mean (${fmt(here)} of mean ${fmt(mean)} req/s); shard ${shard.id} serves ${fmt(l)} req/s`;
      // A handoff that helps without making the receiver the hot one.
      const to = shard.inSync
        .filter((id) => id !== hot && projected.has(id) && keepsPrimary(nodeById(round.state, id)) && (projected.get(id) ?? 0) + l < here)
        .sort((a, b) => (projected.get(a) ?? 0) - (projected.get(b) ?? 0) || cmpId(a, b))[0];
      if (to !== undefined) {
        projected.set(hot, here - l);
        projected.set(to, (projected.get(to) ?? 0) + l);
        round.ledger.movePrimary(hot, to);
        taken.add(shard.id);
        steps.push({ ...promoteStep(shard, to, round.nowMs, `${why}; ${to} (in sync, ${fmt((projected.get(to) ?? 0) - l)} req/s) takes it over`), hotNode: hot });
      }
    }
  }
  return steps;
}
