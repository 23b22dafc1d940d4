/** What every rule of one planning round reads: the table, the time, and the loads planned so far. */
import type { ClusterSettings } from '../../config/index.js';
import { copiesOf, nodeById, nodesInOrder, type NodeRecord, type RoutingState, type ShardRecord } from '../routing/index.js';
import type { LoadInput } from './hotspot.js';
import { Ledger } from './ledger.js';
import { countsAsCopy, isEligible } from './node-roles.js';
import { sharesZone, zonesOfShard } from './zones.js';

export interface Round {
  readonly state: RoutingState;
  readonly nowMs: number;
  readonly settings: ClusterSettings;
  readonly ledger: Ledger;
  /** In id order, so every choice is deterministic. */
  readonly nodes: readonly NodeRecord[];
  /** The loads measured, when the caller has them (the trim of a relocation's surplus reads them). */
  readonly load?: LoadInput;
}

export function startRound(state: RoutingState, nowMs: number, load?: LoadInput): Round {
  const round = { state, nowMs, settings: state.config.settings, ledger: new Ledger(state), nodes: nodesInOrder(state) };
  return load === undefined ? round : { ...round, load };
}

/** The copies of the shard that count towards its replication factor (see countsAsCopy). */
export function countedCopies(round: Round, shard: ShardRecord): string[] {
  const delay = round.settings.recovery.replaceDelayMs;
  return copiesOf(shard).filter((id) => countsAsCopy(nodeById(round.state, id), round.nowMs, delay));
}

/**
 * Nodes that could take a new copy of the shard now: eligible, not holding
 * one, with room, and (zoneStrict) in a zone no counted copy is in; a zone
 * the shard is not in yet first, then fewest copies.
 */
export function targetsFor(round: Round, shard: ShardRecord): NodeRecord[] {
  const { may, order } = targetRules(round, shard);
  return round.nodes.filter(may).sort(order);
}

/** The first of targetsFor that `also` accepts, in one pass over the nodes (no sort). */
export function firstTarget(round: Round, shard: ShardRecord, also: (n: NodeRecord) => boolean = () => true): NodeRecord | undefined {
  const { may, order } = targetRules(round, shard);
  return firstInOrder(round.nodes, order, (n) => may(n) && also(n));
}

function targetRules(round: Round, shard: ShardRecord): { may: (n: NodeRecord) => boolean; order: (a: NodeRecord, b: NodeRecord) => number } {
  const held = new Set(copiesOf(shard));
  const { ledger } = round;
  const zones = zonesOfShard(round.state, shard, countedCopies(round, shard));
  const strict = round.settings.placement.zoneStrict;
  const sameZone = (n: NodeRecord) => (sharesZone(n, zones) ? 1 : 0);
  return {
    may: (n) => isEligible(n) && !held.has(n.id) && ledger.hasRoom(n) && !(strict && sharesZone(n, zones)),
    order: (a, b) =>
      sameZone(a) - sameZone(b) ||
      ledger.copiesOn(a.id) - ledger.copiesOn(b.id) ||
      ledger.primariesOn(a.id) - ledger.primariesOn(b.id) ||
      cmpId(a.id, b.id),
  };
}

export const cmpId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The first of `items` in `cmp`'s order, in one pass: what `[...items].sort(cmp)[0]`
 * gives for a total order (every comparator here ends on the id), without
 * sorting every node for each pick.
 */
export function firstInOrder<T>(items: Iterable<T>, cmp: (a: T, b: T) => number, keep: (item: T) => boolean = () => true): T | undefined {
  let best: T | undefined;
  for (const item of items) if (keep(item) && (best === undefined || cmp(item, best) < 0)) best = item;
  return best;
}
