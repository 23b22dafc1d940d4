/**
 * Rule 2: a primary on a node that cannot keep it (failed, leaving, gone)
 * hands over to an in-sync replica. A failed primary takes whatever serves,
 * even a leaving node (availability first); a leaving primary still serves,
 * so it waits for a copy on a node that stays.
 */
import { canServe, nodeById, type RoutingState, type ShardRecord } from '../routing/index.js';
import type { Ledger } from './ledger.js';
import { isLeaving, keepsPrimary } from './node-roles.js';
import { cmpId, type Round } from './round.js';
import { outOfSyncStep, promoteStep } from './steps.js';
import type { PlannedStep } from './types.js';

/** The in-sync replica to promote: on a node that serves (staying ones first), fewest primaries, then id. */
export function promotionCandidate(state: RoutingState, ledger: Ledger, shard: ShardRecord, stayingOnly: boolean): string | undefined {
  const leaving = (id: string) => (isLeaving(nodeById(state, id)?.status ?? 'left') ? 1 : 0);
  return shard.replicas
    .filter((id) => {
      const node = nodeById(state, id);
      return shard.inSync.includes(id) && node !== undefined && canServe(node.status) && (!stayingOnly || !isLeaving(node.status));
    })
    .sort((a, b) => leaving(a) - leaving(b) || ledger.primariesOn(a) - ledger.primariesOn(b) || cmpId(a, b))[0];
}

const statusText = (state: RoutingState, id: string | null) => (id === null ? 'none' : `${id} (${nodeById(state, id)?.status ?? 'not in the table'})`);

export function planFailover(round: Round, shard: ShardRecord): PlannedStep | undefined {
  if (shard.primary === null && shard.replicas.length === 0) return undefined;
  const old = shard.primary === null ? undefined : nodeById(round.state, shard.primary);
  if (shard.primary !== null && keepsPrimary(old)) return failedReplicaOutOfSync(round, shard);
  const stillServes = old !== undefined && canServe(old.status);
  const to = promotionCandidate(round.state, round.ledger, shard, stillServes);
  if (to === undefined) return undefined;
  round.ledger.movePrimary(shard.primary, to);
  return promoteStep(shard, to, round.nowMs, `failover: primary ${statusText(round.state, shard.primary)} cannot keep shard ${shard.id}; ${to} is in sync`);
}

/**
 * An in-sync replica on a node declared failed (whose lease has run out:
 * it serves nothing) leaves the in-sync set by a committed command, so the
 * primary stops waiting for it; otherwise the shard's next write would stall
 * for the primary's whole replica timeout before the primary took it out.
 */
function failedReplicaOutOfSync(round: Round, shard: ShardRecord): PlannedStep | undefined {
  const failed = shard.replicas.find((id) => shard.inSync.includes(id) && nodeById(round.state, id)?.status === 'unhealthy');
  if (failed === undefined) return undefined;
  return outOfSyncStep(shard, failed, round.nowMs, `failover: replica ${failed} of shard ${shard.id} failed; the primary ${shard.primary} need not wait for it`);
}
