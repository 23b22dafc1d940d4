/** Rule 5: a draining or evacuating node that holds no copy any more has left. */
import { shardIdsOnNode } from '../routing/index.js';
import { isLeaving } from './node-roles.js';
import type { Round } from './round.js';
import { leftStep } from './steps.js';
import type { PlannedStep } from './types.js';

export function planDepartures(round: Round): PlannedStep[] {
  return round.nodes
    .filter((n) => isLeaving(n.status) && shardIdsOnNode(round.state, n.id).length === 0)
    .map((n) => leftStep(n, round.nowMs, `${n.id} was ${n.status} and holds no shard copy any more`));
}
