/**
 * Rule 6: when the cluster is calm and a rebalance was asked for (plan.ts),
 * even out the placement, one step per round, in this order:
 * 1. zones: a shard whose copies share a zone while a node in another zone
 *    could take one gets a copy there (trim.ts then drops a doubled one);
 * 2. copies per eligible node;
 * 3. primaries per eligible node, by handing the role to an in-sync replica
 *    (no data copied).
 * A copy is never moved in one step: the light node gets an extra replica of
 * a shard the heavy node holds, and once it is in sync the surplus copy is
 * dropped from the most loaded node (trim.ts).
 */
import { copiesOf, nodeById, type NodeRecord, type ShardRecord } from '../routing/index.js';
import { isEligible, keepsPrimary } from './node-roles.js';
import { cmpId, countedCopies, type Round } from './round.js';
import { moveStep, promoteStep } from './steps.js';
import type { PlannedStep } from './types.js';
import { zoneOf, zoneSpread } from './zones.js';

/** A whole, calm shard with a primary that stays: one that may get an extra copy. */
function calm(round: Round, s: ShardRecord): boolean {
  return (
    s.state === 'active' &&
    keepsPrimary(s.primary === null ? undefined : nodeById(round.state, s.primary)) &&
    countedCopies(round, s).length === copiesOf(s).length &&
    copiesOf(s).length <= round.settings.replicationFactor
  );
}

/**
 * A shard whose copy on `heavy` may be mirrored onto `light` without spanning
 * fewer zones once heavy's copy goes; a copy heavy leads too (trim.ts hands
 * the primary to an in-sync replica as it drops it), replicas first.
 */
function movableShard(round: Round, held: HeldShards, heavy: string, light: string): ShardRecord | undefined {
  const fits = (s: ShardRecord) => {
    if (copiesOf(s).includes(light) || !calm(round, s)) return false;
    const copies = copiesOf(s);
    return zoneSpread(round.state, [...copies.filter((id) => id !== heavy), light]) >= zoneSpread(round.state, copies);
  };
  return held.replicas.get(heavy)?.find(fits) ?? held.primaries.get(heavy)?.find(fits);
}

/** Each node's shards, replicas and primaries apart, in shard order: a heavy node's candidates without a scan of every shard per pair of nodes. */
interface HeldShards {
  readonly replicas: ReadonlyMap<string, readonly ShardRecord[]>;
  readonly primaries: ReadonlyMap<string, readonly ShardRecord[]>;
}

function heldShards(round: Round): HeldShards {
  const replicas = new Map<string, ShardRecord[]>();
  const primaries = new Map<string, ShardRecord[]>();
  const add = (m: Map<string, ShardRecord[]>, id: string, s: ShardRecord) => {
    const list = m.get(id);
    if (list === undefined) m.set(id, [s]);
    else list.push(s);
  };
  for (const s of round.state.shards) {
    if (s.primary !== null) add(primaries, s.primary, s);
    for (const r of s.replicas) add(replicas, r, s);
  }
  return { replicas, primaries };
}

function planZoneSpread(round: Round, eligible: readonly NodeRecord[]): PlannedStep | undefined {
  const { ledger, state } = round;
  const zones = new Set(eligible.map(zoneOf).filter((z): z is string => z !== null));
  if (zones.size < 2) return undefined;
  const byLoad = eligible.filter((n) => ledger.hasRoom(n)).sort((a, b) => ledger.copiesOn(a.id) - ledger.copiesOn(b.id) || cmpId(a.id, b.id));
  for (const s of state.shards) {
    const copies = copiesOf(s);
    if (copies.length < 2 || !calm(round, s)) continue;
    const spread = zoneSpread(state, copies);
    if (spread >= copies.length) continue;
    const target = byLoad.find((n) => !copies.includes(n.id) && zoneSpread(state, [...copies, n.id]) > spread);
    if (target === undefined) continue;
    ledger.addCopy(target.id, { primary: false, recovering: true });
    const reason = `balance: shard ${s.id}'s ${copies.length} copies span ${spread} zone${spread === 1 ? '' : 's'}; ${target.id} (zone ${zoneOf(target) ?? 'none'}) takes a copy`;
    return { ...moveStep(s, s.primary, [...s.replicas, target.id], round.nowMs, reason), balance: true };
  }
  return undefined;
}

function planCopyBalance(round: Round, eligible: readonly NodeRecord[]): PlannedStep | undefined {
  const { ledger } = round;
  const load = (n: NodeRecord) => ledger.copiesOn(n.id);
  const heaviest = [...eligible].sort((a, b) => load(b) - load(a) || cmpId(a.id, b.id));
  const lightest = eligible.filter((n) => ledger.hasRoom(n)).sort((a, b) => load(a) - load(b) || cmpId(a.id, b.id));
  const held = heldShards(round);
  for (const heavy of heaviest) {
    for (const light of lightest) {
      if (load(heavy) - load(light) <= 1) break;
      const shard = movableShard(round, held, heavy.id, light.id);
      if (shard === undefined) continue;
      const reason = `balance: ${heavy.id} holds ${load(heavy)} copies, ${light.id} ${load(light)}; ${light.id} takes a copy of shard ${shard.id}`;
      ledger.addCopy(light.id, { primary: false, recovering: true });
      return { ...moveStep(shard, shard.primary, [...shard.replicas, light.id], round.nowMs, reason), balance: true };
    }
  }
  return undefined;
}

interface Handoff {
  readonly to: string;
  readonly shard: ShardRecord;
}

/**
 * Primaries even out by handoffs to in-sync replicas only. When no replica
 * of the heavy node's shards sits on a light node, the role walks a chain:
 * heavy hands one shard to a replica on a node with fewer primaries, which
 * hands one of its own on in a later round, and so on to a light node (the
 * shortest such chain, found breadth-first). A node on the way never gets
 * more primaries than the heavy node had, so the highest count never rises.
 */
function planPrimaryBalance(round: Round, eligible: readonly NodeRecord[]): PlannedStep | undefined {
  const { ledger } = round;
  const ids = new Set(eligible.map((n) => n.id));
  const primaries = (id: string) => ledger.primariesOn(id);
  const lightest = Math.min(...eligible.map((n) => primaries(n.id)));
  const handoffs = new Map<string, Handoff[]>();
  for (const s of round.state.shards) {
    if (s.primary === null || !ids.has(s.primary) || !calm(round, s)) continue;
    for (const to of s.inSync) if (to !== s.primary && ids.has(to)) handoffs.set(s.primary, [...(handoffs.get(s.primary) ?? []), { to, shard: s }]);
  }
  const heaviest = [...eligible].sort((a, b) => primaries(b.id) - primaries(a.id) || cmpId(a.id, b.id));
  for (const heavy of heaviest) {
    const top = primaries(heavy.id);
    if (top - lightest <= 1) return undefined;
    const first = firstHop(heavy.id, top, handoffs, primaries);
    if (first === undefined) continue;
    const reason = `balance: ${heavy.id} leads ${top} shards, ${first.to} ${primaries(first.to)}; ${first.to} (in sync) takes over shard ${first.shard.id}`;
    ledger.movePrimary(heavy.id, first.to);
    return { ...promoteStep(first.shard, first.to, round.nowMs, reason), balance: true };
  }
  return undefined;
}

/** The first handoff on the shortest chain from `from` to a node with at least two primaries fewer than `top`. */
function firstHop(from: string, top: number, handoffs: ReadonlyMap<string, readonly Handoff[]>, primaries: (id: string) => number): Handoff | undefined {
  const firstOf = new Map<string, Handoff>();
  const queue: string[] = [from];
  const seen = new Set([from]);
  for (let i = 0; i < queue.length; i++) {
    const at = queue[i] as string;
    for (const h of handoffs.get(at) ?? []) {
      if (seen.has(h.to) || primaries(h.to) >= top) continue;
      seen.add(h.to);
      const first = at === from ? h : (firstOf.get(at) as Handoff);
      if (top - primaries(h.to) >= 2) return first;
      firstOf.set(h.to, first);
      queue.push(h.to);
    }
  }
  return undefined;
}

export function planBalance(round: Round): PlannedStep | undefined {
  const eligible = round.nodes.filter(isEligible);
  if (eligible.length === 0) return undefined;
  return planZoneSpread(round, eligible) ?? planCopyBalance(round, eligible) ?? planPrimaryBalance(round, eligible);
}
