/**
 * Whether an evacuation can go on, and if not why, as an operator needs to
 * hear it: a copy that has to move but can go nowhere (no node may take a
 * copy and the node holds the only in-sync one), or that has nothing to be
 * copied from (no serving primary). Waiting for a recovery slot, for a copy
 * being filled or for a primary to be fenced is progress, not a stall.
 */
import { canServe, copiesOf, nodeById, type NodeStatus, type ShardRecord } from '../routing/index.js';
import { isStaying } from './node-roles.js';
import { firstTarget, type Round } from './round.js';

function shardStall(round: Round, shard: ShardRecord, nodeId: string): string | undefined {
  const status = (id: string): NodeStatus => nodeById(round.state, id)?.status ?? 'left';
  const inSyncElsewhere = shard.inSync.filter((id) => id !== nodeId && isStaying(status(id)));
  if (shard.primary === nodeId && inSyncElsewhere.length > 0) return undefined; // handed over once fenced
  const filling = shard.replicas.some((r) => r !== nodeId && !shard.inSync.includes(r) && isStaying(status(r)));
  if (filling) return undefined;
  if (inSyncElsewhere.length >= round.settings.replicationFactor) return undefined; // trimmed next
  if (shard.primary === null || !canServe(status(shard.primary))) return `shard ${shard.id} has no serving primary to copy from`;
  if (firstTarget(round, shard) !== undefined) return undefined; // waits for a recovery slot
  if (inSyncElsewhere.length > 0) return undefined; // dropped with fewer copies: nowhere else to put one
  return `shard ${shard.id}: no other node can take a copy (full, holding one already, or taking no new copies) and ${nodeId} holds its only in-sync copy`;
}

/** Why the evacuation of `nodeId` cannot go on now, or null; shards with a step planned this round are moving. */
export function evacuationStall(round: Round, nodeId: string, planned: ReadonlySet<number>): string | null {
  const stalls: string[] = [];
  for (const shard of round.state.shards) {
    if (planned.has(shard.id) || !copiesOf(shard).includes(nodeId)) continue;
    const why = shardStall(round, shard, nodeId);
    if (why !== undefined) stalls.push(why);
  }
  if (stalls.length === 0) return null;
  return stalls.length === 1 ? (stalls[0] as string) : `${stalls[0]} (and ${stalls.length - 1} more shard${stalls.length === 2 ? '' : 's'} stuck)`;
}
