/**
 * Rule 1: shards without any copy get their first ones. Nothing has been
 * written to them, so every copy starts in sync. The planner waits for the
 * nodes of a cluster that starts together to have registered (settle), but
 * not forever (grace): a lone node still gets the shards, with fewer copies,
 * and later nodes receive the missing ones by repair.
 */
import { copiesOf, type NodeRecord } from '../routing/index.js';
import { isEligible } from './node-roles.js';
import { cmpId, firstInOrder, type Round } from './round.js';
import { assignStep } from './steps.js';
import { sharesZone, zoneOf } from './zones.js';
import type { PlannedStep } from './types.js';

export interface Waits {
  readonly settleMs: number;
  readonly graceMs: number;
}

/** Whether the eligible nodes have stopped arriving, or the first of them has waited long enough. */
export function settled(round: Round, eligible: readonly NodeRecord[], waits: Waits): boolean {
  if (eligible.length === 0) return false;
  const times = eligible.map((n) => n.registeredAtMs);
  const enough = eligible.length >= round.settings.replicationFactor;
  return (enough && round.nowMs - Math.max(...times) >= waits.settleMs) || round.nowMs - Math.min(...times) >= waits.graceMs;
}

/** Replicas one by one: a zone not used yet first (zoneStrict: only such), then fewest copies. */
function pickReplicas(round: Round, primary: NodeRecord, candidates: NodeRecord[]): string[] {
  const { ledger } = round;
  const zones = new Set<string>();
  const primaryZone = zoneOf(primary);
  if (primaryZone !== null) zones.add(primaryZone);
  const picked = new Set<string>();
  const strict = round.settings.placement.zoneStrict;
  while (picked.size < round.settings.replicationFactor - 1) {
    const sameZone = (n: NodeRecord) => (sharesZone(n, zones) ? 1 : 0);
    const next = firstInOrder(
      candidates,
      (a, b) => sameZone(a) - sameZone(b) || ledger.copiesOn(a.id) - ledger.copiesOn(b.id) || cmpId(a.id, b.id),
      (n) => !picked.has(n.id) && !(strict && sharesZone(n, zones)),
    );
    if (next === undefined) break;
    picked.add(next.id);
    const zone = zoneOf(next);
    if (zone !== null) zones.add(zone);
  }
  return [...picked];
}

/** The first copies of at most `limit` unassigned shards, in shard order (the rest wait for a round planned on the table these made). */
export function planFirstAssignment(round: Round, waits: Waits, limit = Number.POSITIVE_INFINITY): PlannedStep[] {
  const unassigned = round.state.shards.filter((s) => copiesOf(s).length === 0);
  if (unassigned.length === 0) return [];
  const { ledger } = round;
  const withRoom = () => round.nodes.filter((n) => isEligible(n) && ledger.hasRoom(n));
  const eligible = withRoom();
  if (!settled(round, eligible, waits)) return [];
  const reason = `first assignment over ${eligible.length} node${eligible.length === 1 ? '' : 's'} (${eligible.map((n) => n.id).join(', ')})`;

  const steps: PlannedStep[] = [];
  for (const shard of unassigned) {
    if (steps.length >= limit) break;
    const candidates = withRoom();
    // Primaries round-robin: fewest primaries, then fewest copies.
    const primary = firstInOrder(candidates, (a, b) => ledger.primariesOn(a.id) - ledger.primariesOn(b.id) || ledger.copiesOn(a.id) - ledger.copiesOn(b.id) || cmpId(a.id, b.id));
    if (primary === undefined) break;
    const replicas = pickReplicas(round, primary, candidates.filter((n) => n.id !== primary.id));
    ledger.addCopy(primary.id, { primary: true, recovering: false });
    for (const r of replicas) ledger.addCopy(r, { primary: false, recovering: false });
    steps.push(assignStep(shard, primary.id, replicas, round.nowMs, reason));
  }
  return steps;
}
