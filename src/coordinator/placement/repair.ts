/**
 * Rule 3: a shard with fewer counted copies than the replication factor gets
 * one more, on the least loaded node that may take it, within the recovery
 * limits (filling a replica costs the primary and the target bandwidth).
 */
import { canServe, nodeById, type ShardRecord } from '../routing/index.js';
import { countedCopies, firstTarget, type Round } from './round.js';
import { moveStep } from './steps.js';
import type { PlannedStep } from './types.js';

/** The schema's bound on a shard's replica list. */
const MAX_REPLICAS = 15;

export function planRepair(round: Round, shard: ShardRecord): PlannedStep | undefined {
  // A new replica is filled from the primary: without a serving one there is nothing to copy from.
  const primary = shard.primary === null ? undefined : nodeById(round.state, shard.primary);
  if (shard.primary === null || primary === undefined || !canServe(primary.status)) return undefined;
  if (shard.replicas.length >= MAX_REPLICAS) return undefined;
  const counted = countedCopies(round, shard);
  const factor = round.settings.replicationFactor;
  if (counted.length >= factor) return undefined;
  const limits = round.settings.recovery;
  // The cluster's recovery slots taken: no node may take one (most shards of a failed node's wait here).
  if (round.ledger.recoveringInCluster >= limits.maxConcurrentPerCluster) return undefined;
  const target = firstTarget(round, shard, (n) => round.ledger.mayRecoverOnto(n.id, limits));
  if (target === undefined) return undefined;
  round.ledger.addCopy(target.id, { primary: false, recovering: true });
  return moveStep(
    shard,
    shard.primary,
    [...shard.replicas, target.id],
    round.nowMs,
    `repair: shard ${shard.id} has ${counted.length} of ${factor} copies on serving nodes; adding ${target.id}`,
  );
}
