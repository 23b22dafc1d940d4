/**
 * Zones: a node's `labels.zone`. Copies of a shard go to distinct zones
 * whenever the nodes allow it; with `placement.zoneStrict` a shard rather
 * stays under-replicated than puts a second copy in a zone. A node without
 * a zone label is a zone of its own (nothing is known to tie it to another).
 */
import { copiesOf, nodeById, type NodeRecord, type RoutingState, type ShardRecord } from '../routing/index.js';

export const zoneOf = (node: NodeRecord | undefined): string | null => node?.labels['zone'] ?? null;

/** The zones of the shard's copies, leaving out the copy on `except` (when it is about to go). */
export function zonesOfShard(state: RoutingState, shard: ShardRecord, copies: readonly string[] = copiesOf(shard), except?: string): Set<string> {
  const zones = new Set<string>();
  for (const id of copies) {
    if (id === except) continue;
    const zone = zoneOf(nodeById(state, id));
    if (zone !== null) zones.add(zone);
  }
  return zones;
}

/** Whether a copy on `node` would share a zone with one of `zones`. */
export const sharesZone = (node: NodeRecord, zones: ReadonlySet<string>): boolean => {
  const zone = zoneOf(node);
  return zone !== null && zones.has(zone);
};

/** Copies that share their zone with another copy of the same shard (the ones to drop first). */
export function zoneDuplicates(state: RoutingState, copies: readonly string[]): Set<string> {
  const byZone = new Map<string, string[]>();
  for (const id of copies) {
    const zone = zoneOf(nodeById(state, id));
    if (zone !== null) byZone.set(zone, [...(byZone.get(zone) ?? []), id]);
  }
  return new Set([...byZone.values()].filter((ids) => ids.length > 1).flat());
}

/** How many zones the copies span, a copy on a node without a zone counting as one of its own. */
export function zoneSpread(state: RoutingState, copies: readonly string[]): number {
  const zones = new Set<string>();
  let zoneless = 0;
  for (const id of copies) {
    const zone = zoneOf(nodeById(state, id));
    if (zone === null) zoneless++;
    else zones.add(zone);
  }
  return zones.size + zoneless;
}
