/**
 * Rule 6: when the cluster is calm and a rebalance was asked for (plan.ts),
 * even out the copies per eligible node.
 * A copy is never moved in one step: the light node gets an extra replica of
 * a shard the heavy node holds, and once it is in sync the surplus copy is
 * dropped from the most loaded node (trim.ts). Primaries stay where they are.
 */
import { copiesOf, nodeById, type NodeRecord, type ShardRecord } from '../routing/index.js';
import { isEligible, keepsPrimary } from './node-roles.js';
import { cmpId, countedCopies, type Round } from './round.js';
import { moveStep } from './steps.js';
import type { PlannedStep } from './types.js';

/** A shard whose copy on `heavy` may be mirrored onto `light`: a whole, calm shard where heavy is a replica. */
function movableShard(round: Round, heavy: string, light: string): ShardRecord | undefined {
  return round.state.shards.find(
    (s) =>
      s.replicas.includes(heavy) &&
      s.state === 'active' &&
      !copiesOf(s).includes(light) &&
      keepsPrimary(s.primary === null ? undefined : nodeById(round.state, s.primary)) &&
      countedCopies(round, s).length === copiesOf(s).length &&
      copiesOf(s).length <= round.settings.replicationFactor,
  );
}

export function planBalance(round: Round): PlannedStep | undefined {
  const { ledger } = round;
  const eligible = round.nodes.filter(isEligible);
  const load = (n: NodeRecord) => ledger.copiesOn(n.id);
  const heaviest = [...eligible].sort((a, b) => load(b) - load(a) || cmpId(a.id, b.id));
  const lightest = eligible.filter((n) => ledger.hasRoom(n)).sort((a, b) => load(a) - load(b) || cmpId(a.id, b.id));
  for (const heavy of heaviest) {
    for (const light of lightest) {
      if (load(heavy) - load(light) <= 1) break;
      const shard = movableShard(round, heavy.id, light.id);
      if (shard === undefined) continue;
      const reason = `balance: ${heavy.id} holds ${load(heavy)} copies, ${light.id} ${load(light)}; ${light.id} takes a copy of shard ${shard.id}`;
      ledger.addCopy(light.id, { primary: false, recovering: true });
      return { ...moveStep(shard, shard.primary, [...shard.replicas, light.id], round.nowMs, reason), balance: true };
    }
  }
  return undefined;
}
