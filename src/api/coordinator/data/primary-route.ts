/** Where a key's requests go: its shard's primary and epoch, from a routing table. */
import { nodeById, shardForKey, type RoutingState } from '../../../coordinator/routing/index.js';
import { ClusterError, ClusterErrorCode } from '../../../errors/index.js';

export interface PrimaryRoute {
  readonly shard: number;
  readonly epoch: number;
  readonly primary: string;
  readonly address: string;
}

/** The route, or UNAVAILABLE naming the shard when it has no primary this table can dial. */
export function primaryRoute(state: RoutingState, key: string): PrimaryRoute {
  const shard = state.shards[shardForKey(key, state.shards.length)];
  if (shard === undefined) throw new ClusterError({ code: ClusterErrorCode.Internal }, `no shard record for key hash in a table of ${state.shards.length} shards`);
  if (shard.primary === null) {
    throw new ClusterError({ code: ClusterErrorCode.Unavailable, reason: 'no primary', shard: shard.id, retryAfterMs: 500 }, `shard ${shard.id} has no primary`);
  }
  const node = nodeById(state, shard.primary);
  if (node === undefined) {
    throw new ClusterError(
      { code: ClusterErrorCode.Unavailable, reason: 'primary not in the table', shard: shard.id, retryAfterMs: 500 },
      `shard ${shard.id}: its primary ${shard.primary} is not in the node table`,
    );
  }
  return { shard: shard.id, epoch: shard.epoch, primary: node.id, address: node.address };
}
