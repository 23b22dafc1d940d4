/** Reading the table safely: ids are object keys, so only own properties count (`constructor` is a legal id). */
import type { MemberRecord, NodeId, NodeRecord, RoutingState, ShardRecord } from './types.js';

export function nodeById(state: RoutingState, id: NodeId): NodeRecord | undefined {
  return Object.hasOwn(state.nodes, id) ? state.nodes[id] : undefined;
}

export function memberById(state: RoutingState, id: string): MemberRecord | undefined {
  return Object.hasOwn(state.members, id) ? state.members[id] : undefined;
}

export function shardById(state: RoutingState, id: number): ShardRecord | undefined {
  return Number.isInteger(id) && id >= 0 ? state.shards[id] : undefined;
}

/** Nodes in id order, so that anything built from them is independent of insertion order. */
export function nodesInOrder(state: RoutingState): NodeRecord[] {
  return Object.keys(state.nodes)
    .sort()
    .map((id) => state.nodes[id] as NodeRecord);
}

/** How many shard copies (primary or replica) each node holds; nodes with none are absent. */
export function copyCounts(state: RoutingState): Map<NodeId, number> {
  const counts = new Map<NodeId, number>();
  for (const shard of state.shards) {
    if (shard.primary !== null) counts.set(shard.primary, (counts.get(shard.primary) ?? 0) + 1);
    for (const r of shard.replicas) counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  return counts;
}

/** Ids of the shards that have a copy on `node`. */
export function shardIdsOnNode(state: RoutingState, node: NodeId): number[] {
  return state.shards.filter((s) => s.primary === node || s.replicas.includes(node)).map((s) => s.id);
}
