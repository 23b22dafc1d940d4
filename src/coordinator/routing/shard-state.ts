/** What a shard's own fields say about it; the one place `ShardRecord.state` is computed. */
import type { NodeId, ShardRecord, ShardState } from './types.js';

/** Primary first, then the replicas. */
export function copiesOf(shard: Pick<ShardRecord, 'primary' | 'replicas'>): NodeId[] {
  return shard.primary === null ? [...shard.replicas] : [shard.primary, ...shard.replicas];
}

export function shardStateOf(primary: NodeId | null, replicas: readonly NodeId[], inSync: readonly NodeId[]): ShardState {
  if (primary === null) return replicas.length === 0 ? 'unassigned' : 'unavailable';
  return replicas.every((r) => inSync.includes(r)) ? 'active' : 'recovering';
}

/** Sorted, so that equal sets are equal arrays (and hash equally). */
export const sortedIds = (ids: Iterable<NodeId>): NodeId[] => [...new Set(ids)].sort();

/** A shard record with its derived fields normalised and computed, at `epoch`. */
export function makeShard(id: number, epoch: number, primary: NodeId | null, replicas: Iterable<NodeId>, inSync: Iterable<NodeId>): ShardRecord {
  const reps = sortedIds(replicas);
  const sync = sortedIds(inSync);
  return { id, primary, replicas: reps, inSync: sync, epoch, state: shardStateOf(primary, reps, sync) };
}
