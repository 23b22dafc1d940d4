/**
 * Rule 4: copies the shard no longer needs are dropped, never the primary and
 * never its last in-sync copy. A copy on a node that is leaving or failed for
 * good goes once the shard is whole elsewhere — or, when no node could take
 * a copy and none is being filled, at once (a drain must finish, with fewer
 * copies if need be). A surplus
 * copy (left by balancing, or after the replication factor went down) goes
 * from the most loaded node once every other copy is in sync.
 */
import { canServe, nodeById, type ShardRecord } from '../routing/index.js';
import { promotionCandidate } from './failover.js';
import { planLoadTrim } from './hotspot.js';
import { cmpId, countedCopies, firstTarget, type Round } from './round.js';
import { moveStep } from './steps.js';
import type { PlannedStep } from './types.js';
import { zoneDuplicates } from './zones.js';

/** Dropping `id` keeps an in-sync copy on a serving node (if it was one). */
function safeToDrop(round: Round, shard: ShardRecord, id: string): boolean {
  if (!shard.inSync.includes(id)) return true;
  return shard.inSync.some((other) => other !== id && canServe(nodeById(round.state, other)?.status ?? 'left'));
}

function drop(round: Round, shard: ShardRecord, id: string, why: string): PlannedStep {
  return moveStep(
    shard,
    shard.primary,
    shard.replicas.filter((r) => r !== id),
    round.nowMs,
    `trim: dropping shard ${shard.id}'s copy on ${id}: ${why}`,
  );
}

function dropUncounted(round: Round, shard: ShardRecord, counted: readonly string[]): PlannedStep | undefined {
  const factor = round.settings.replicationFactor;
  const gone = shard.replicas.filter((r) => !counted.includes(r));
  if (gone.length === 0) return undefined;
  const inSyncElsewhere = counted.filter((id) => shard.inSync.includes(id)).length;
  const whole = inSyncElsewhere >= factor;
  // Not whole yet: wait while a copy elsewhere is being filled (it makes the shard whole) or could be added.
  const filling = counted.some((id) => !shard.inSync.includes(id));
  if (!whole && (filling || firstTarget(round, shard) !== undefined)) return undefined;
  const id = gone.find((r) => safeToDrop(round, shard, r));
  if (id === undefined) return undefined;
  const status = nodeById(round.state, id)?.status ?? 'not in the table';
  const why = whole ? `${id} is ${status} and ${inSyncElsewhere} in-sync copies remain elsewhere` : `${id} is ${status} and no node can take a copy`;
  return drop(round, shard, id, why);
}

function dropSurplus(round: Round, shard: ShardRecord, counted: readonly string[]): PlannedStep | undefined {
  const factor = round.settings.replicationFactor;
  if (counted.length <= factor) return undefined;
  // A relocation for load (hotspot.ts) ends here: the hot primary's copy goes, not the one just filled.
  const forLoad = planLoadTrim(round, shard, counted, round.load);
  if (forLoad !== undefined) return forLoad;
  const { ledger } = round;
  const failed = (id: string) => (nodeById(round.state, id)?.status === 'unhealthy' ? 1 : 0);
  // A copy still being filled is never the surplus: dropping it would undo the move that made the surplus
  // (balance adds a copy, and the old one goes once the new one is in sync), and it would be re-added forever.
  const recovering = (id: string) => !shard.inSync.includes(id) && failed(id) === 0;
  const duplicates = zoneDuplicates(round.state, counted);
  const doubled = (id: string) => (duplicates.has(id) ? 1 : 0);
  const isPrimary = (id: string) => (id === shard.primary ? 1 : 0);
  const id = counted
    .filter((r) => !recovering(r) && counted.every((other) => other === r || shard.inSync.includes(other)))
    // A copy on a failed node first, then one sharing its zone with another copy, then the most loaded node (the primary last).
    .sort((a, b) => failed(b) - failed(a) || doubled(b) - doubled(a) || ledger.copiesOn(b) - ledger.copiesOn(a) || isPrimary(a) - isPrimary(b) || cmpId(a, b))[0];
  if (id === undefined || !safeToDrop(round, shard, id)) return undefined;
  const why = `${counted.length} copies where ${factor} are wanted; ${id} holds ${ledger.copiesOn(id)}`;
  if (id !== shard.primary) return drop(round, shard, id, why);
  // The primary's copy is the one to go (balance moved a copy of a shard this node leads): an in-sync replica takes over in the same step.
  const to = promotionCandidate(round.state, ledger, shard, true);
  if (to === undefined) return undefined;
  ledger.movePrimary(id, to);
  return moveStep(shard, to, shard.replicas.filter((r) => r !== to), round.nowMs, `trim: dropping shard ${shard.id}'s copy on ${id}, ${to} (in sync) leads it: ${why}`);
}

export function planTrim(round: Round, shard: ShardRecord): PlannedStep | undefined {
  if (shard.primary === null) return undefined;
  const counted = countedCopies(round, shard);
  return dropUncounted(round, shard, counted) ?? dropSurplus(round, shard, counted);
}
