/**
 * Rule 5: the ends of planned operations. A draining node that holds no copy
 * any more has left; an evacuating one is in maintenance (reversible); a
 * maintenance window whose time is up ends, and so does a restart window. While an evacuation runs, the
 * table says whether it is stuck and why (evacuation-stall.ts).
 */
import { shardIdsOnNode, type NodeRecord } from '../routing/index.js';
import { evacuationStall } from './evacuation-stall.js';
import type { Round } from './round.js';
import { evacuationStallStep, finishEvacuationStep, leftStep, maintenanceExpiryStep, restartExpiryStep } from './steps.js';
import type { PlannedStep } from './types.js';

function departure(round: Round, n: NodeRecord, planned: ReadonlySet<number>): PlannedStep | undefined {
  const empty = () => shardIdsOnNode(round.state, n.id).length === 0;
  switch (n.status) {
    case 'draining':
      return empty() ? leftStep(n, round.nowMs, `${n.id} was draining and holds no shard copy any more`) : undefined;
    case 'evacuating': {
      if (empty()) return finishEvacuationStep(n, round.nowMs, `${n.id} was evacuating and holds no shard copy any more`);
      const stall = evacuationStall(round, n.id, planned);
      const evacuation = n.evacuation;
      if (evacuation === undefined || evacuation.stalledReason === stall) return undefined;
      return evacuationStallStep(n, evacuation.startedAtMs, stall, round.nowMs);
    }
    case 'maintenance': {
      const untilMs = n.maintenance?.untilMs ?? null;
      return untilMs !== null && untilMs <= round.nowMs ? maintenanceExpiryStep(n, round.nowMs) : undefined;
    }
    case 'restarting':
      return n.restart !== undefined && n.restart.untilMs <= round.nowMs ? restartExpiryStep(n, round.nowMs) : undefined;
    default:
      return undefined;
  }
}

/** `planned`: the shards that got a step this round (they are moving). */
export function planDepartures(round: Round, planned: ReadonlySet<number>): PlannedStep[] {
  return round.nodes.flatMap((n) => departure(round, n, planned) ?? []);
}
