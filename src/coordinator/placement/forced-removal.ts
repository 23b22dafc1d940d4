/**
 * Taking a node out now (an operator's forced removal): its primaries hand
 * over first, its replicas are dropped. Refused as a whole if any shard would
 * lose its last in-sync copy, because that is data nobody else holds.
 */
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';
import type { RoutingState, ShardRecord } from '../routing/index.js';
import { promotionCandidate } from './failover.js';
import { Ledger } from './ledger.js';
import { moveStep, promoteStep } from './steps.js';
import type { PlannedStep } from './types.js';

function removalStep(state: RoutingState, ledger: Ledger, shard: ShardRecord, nodeId: string, nowMs: number): PlannedStep | 'last-copy' | undefined {
  const reason = `forced removal of ${nodeId}`;
  if (shard.primary === nodeId) {
    const to = promotionCandidate(state, ledger, shard, false);
    if (to !== undefined) {
      ledger.movePrimary(nodeId, to);
      // The old primary stays as an out-of-sync replica; the next call drops it.
      return promoteStep(shard, to, nowMs, `${reason}: ${to} takes over shard ${shard.id}`);
    }
    // Only a copy on a node that cannot serve is in sync: it keeps the data until that node comes back.
    const keeper = shard.replicas.find((r) => shard.inSync.includes(r));
    if (keeper === undefined) return 'last-copy';
    return moveStep(shard, keeper, shard.replicas.filter((r) => r !== keeper), nowMs, `${reason}: only ${keeper} holds shard ${shard.id} in sync`);
  }
  if (!shard.replicas.includes(nodeId)) return undefined;
  if (shard.primary === null && shard.inSync.length === 1 && shard.inSync[0] === nodeId) return 'last-copy';
  return moveStep(shard, shard.primary, shard.replicas.filter((r) => r !== nodeId), nowMs, `${reason}: dropping its copy of shard ${shard.id}`);
}

/** Steps that take `nodeId` out now (forced removal); [] when it holds no copy. */
export function planForcedRemoval(state: RoutingState, nodeId: string, nowMs: number): PlannedStep[] {
  const ledger = new Ledger(state);
  const steps: PlannedStep[] = [];
  const lost: number[] = [];
  for (const shard of state.shards) {
    const step = removalStep(state, ledger, shard, nodeId, nowMs);
    if (step === 'last-copy') lost.push(shard.id);
    else if (step !== undefined) steps.push(step);
  }
  if (lost.length > 0) {
    const message =
      lost.length === 1
        ? `shard ${lost[0]} has no other in-sync copy: removing ${nodeId} would lose its data`
        : `shards ${lost.join(', ')} have no other in-sync copy: removing ${nodeId} would lose their data`;
    throw new ClusterError({ code: ClusterErrorCode.Conflict, reason: 'LAST_COPY' }, message);
  }
  return steps;
}
