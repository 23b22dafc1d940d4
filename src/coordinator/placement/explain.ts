/**
 * Why a shard sits where it sits: for each copy, its role and how it got
 * there; for every other node, each rule that keeps it from taking a copy
 * now; for a shard short of copies, what holds the repair back. Pure, and
 * built from the same rules the planner applies (round.ts, node-roles.ts,
 * zones.ts), so it cannot tell a different story from what the planner does.
 */
import {
  acceptsNewCopies,
  canServe,
  copiesOf,
  nodeById,
  type NodeRecord,
  type RoutingEvent,
  type RoutingState,
  type ShardRecord,
} from '../routing/index.js';
import { isLeaving, isStaying } from './node-roles.js';
import { countedCopies, startRound, targetsFor, type Round } from './round.js';
import { sharesZone, zoneOf, zonesOfShard } from './zones.js';

export const EXPLAIN_RULES = [
  'same-shard',
  'status',
  'capacity',
  'zone',
  'throttled',
  'replace-delay',
  'recovering',
  'no-primary',
  'no-target',
  'storm-guard',
] as const;
export type ExplainRule = (typeof EXPLAIN_RULES)[number];

export interface RuleNote {
  readonly rule: ExplainRule;
  readonly message: string;
}

export interface CopyExplanation {
  readonly node: string;
  readonly role: 'primary' | 'replica';
  readonly in_sync: boolean;
  readonly why: string;
}

export interface NodeExplanation {
  readonly node: string;
  readonly can_hold: boolean;
  readonly reasons: readonly RuleNote[];
}

export interface ShardExplanation {
  readonly shard: number;
  readonly epoch: number;
  readonly copies: readonly CopyExplanation[];
  readonly nodes: readonly NodeExplanation[];
  readonly blocked_by: readonly RuleNote[];
}

export interface ExplainInput {
  readonly nowMs: number;
  /** Why the leader's health monitor holds failure decisions back (its storm guard), if it does. */
  readonly stormGuard?: readonly string[];
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const SHARD_MOVES = new Set(['shard-assigned', 'shard-moved', 'shard-promoted']);

/** The newest kept event that placed or moved the shard and names the node. */
function lastPlacement(state: RoutingState, shardId: number, nodeId: string): RoutingEvent | undefined {
  const named = new RegExp(`(^|[^\\w.-])${escape(nodeId)}($|[^\\w.-])`);
  for (let i = state.events.items.length - 1; i >= 0; i--) {
    const e = state.events.items[i] as RoutingEvent;
    if (e.shard === shardId && SHARD_MOVES.has(e.kind) && (named.test(e.message) || named.test(e.reason))) return e;
  }
  return undefined;
}

function copyWhy(round: Round, shard: ShardRecord, node: NodeRecord | undefined, id: string): string {
  const status = node?.status ?? 'not in the table';
  const delay = round.settings.recovery.replaceDelayMs;
  let now: string;
  if (node === undefined) now = `${id} is not in the table`;
  else if (node.status === 'unhealthy') {
    const leftMs = node.statusChangedAtMs + delay - round.nowMs;
    now = leftMs > 0 ? `${id} failed; its copy still counts for ${seconds(leftMs)} (recovery.replaceDelayMs)` : `${id} failed; its copy no longer counts and is replaced`;
  } else if (isLeaving(node.status)) now = `${id} is ${status}: this copy moves away`;
  else if (shard.primary === id) now = `primary on ${status} ${id}`;
  else if (shard.inSync.includes(id)) now = `in-sync replica on ${status} ${id}`;
  else now = `replica on ${id}, being filled from the primary`;
  const event = lastPlacement(round.state, shard.id, id);
  return event === undefined ? `${now}; placed before the oldest event kept` : `${now}; placed by: ${event.reason} (event ${event.seq})`;
}

/** Each rule that says no to a new copy of the shard on `node`. */
function nodeReasons(round: Round, shard: ShardRecord, node: NodeRecord, zones: ReadonlySet<string>): RuleNote[] {
  const { ledger, settings } = round;
  const reasons: RuleNote[] = [];
  if (copiesOf(shard).includes(node.id)) reasons.push({ rule: 'same-shard', message: `${node.id} holds a copy of shard ${shard.id} already` });
  if (!acceptsNewCopies(node.status)) reasons.push({ rule: 'status', message: `${node.id} is ${node.status}: it takes no new copies` });
  if (!ledger.hasRoom(node)) reasons.push({ rule: 'capacity', message: `${node.id} holds ${ledger.copiesOn(node.id)} copies, its capacity is ${node.capacity}` });
  if (settings.placement.zoneStrict && !copiesOf(shard).includes(node.id) && sharesZone(node, zones)) {
    reasons.push({ rule: 'zone', message: `zone ${zoneOf(node)} holds a copy of shard ${shard.id} already (placement.zoneStrict)` });
  }
  const limits = settings.recovery;
  if (ledger.recoveringOn(node.id) >= limits.maxConcurrentPerNode) {
    reasons.push({ rule: 'throttled', message: `${node.id} is filling ${ledger.recoveringOn(node.id)} copies (recovery.maxConcurrentPerNode ${limits.maxConcurrentPerNode})` });
  } else if (ledger.recoveringInCluster >= limits.maxConcurrentPerCluster) {
    reasons.push({ rule: 'throttled', message: `${ledger.recoveringInCluster} copies are being filled in the cluster (recovery.maxConcurrentPerCluster ${limits.maxConcurrentPerCluster})` });
  }
  return reasons;
}

function blockers(round: Round, shard: ShardRecord, nodes: readonly NodeExplanation[], input: ExplainInput): RuleNote[] {
  const { state, settings, nowMs } = round;
  const factor = settings.replicationFactor;
  const copies = copiesOf(shard);
  const live = copies.filter((id) => isStaying(nodeById(state, id)?.status ?? 'left'));
  if (live.length >= factor && copies.length > 0) return [];
  const notes: RuleNote[] = [];
  const primary = shard.primary === null ? undefined : nodeById(state, shard.primary);
  if (copies.length > 0 && (primary === undefined || !canServe(primary.status))) {
    notes.push({ rule: 'no-primary', message: `shard ${shard.id} has no serving primary to copy from (primary: ${shard.primary ?? 'none'}; in sync: ${shard.inSync.join(', ') || 'none'})` });
  }
  for (const id of copies) {
    const node = nodeById(state, id);
    if (node?.status !== 'unhealthy') continue;
    const leftMs = node.statusChangedAtMs + settings.recovery.replaceDelayMs - nowMs;
    if (leftMs > 0) notes.push({ rule: 'replace-delay', message: `${id} failed ${seconds(nowMs - node.statusChangedAtMs)} ago; its copy is replaced in ${seconds(leftMs)} (recovery.replaceDelayMs ${settings.recovery.replaceDelayMs})` });
  }
  const filling = shard.replicas.filter((id) => !shard.inSync.includes(id) && isStaying(nodeById(state, id)?.status ?? 'left'));
  if (filling.length > 0) notes.push({ rule: 'recovering', message: `copies being filled from the primary: ${filling.join(', ')}` });
  const counted = countedCopies(round, shard).length;
  const room = nodes.filter((n) => n.reasons.every((r) => r.rule === 'throttled') && !copies.includes(n.node));
  if (targetsFor(round, shard).length === 0) {
    const why = [...new Set(nodes.flatMap((n) => n.reasons.filter((r) => r.rule !== 'throttled').map((r) => r.rule)))];
    notes.push({
      rule: 'no-target',
      message: `no node can take a copy of shard ${shard.id} (${why.join(', ') || 'no nodes'}); ${live.length} of ${factor} copies on nodes that serve and stay, ${counted} counted`,
    });
  } else if (room.length > 0 && room.every((n) => !n.can_hold)) {
    notes.push({ rule: 'throttled', message: `every node that could take a copy waits for a recovery slot (${room.map((n) => n.node).join(', ')})` });
  }
  for (const why of input.stormGuard ?? []) notes.push({ rule: 'storm-guard', message: why });
  return notes;
}

export function explainShard(state: RoutingState, shard: ShardRecord, input: ExplainInput): ShardExplanation {
  const round = startRound(state, input.nowMs);
  const zones = zonesOfShard(state, shard, countedCopies(round, shard));
  const copies: CopyExplanation[] = copiesOf(shard).map((id) => ({
    node: id,
    role: id === shard.primary ? 'primary' : 'replica',
    in_sync: shard.inSync.includes(id),
    why: copyWhy(round, shard, nodeById(state, id), id),
  }));
  const nodes = round.nodes.map((n) => {
    const reasons = nodeReasons(round, shard, n, zones);
    return { node: n.id, can_hold: reasons.length === 0, reasons };
  });
  return { shard: shard.id, epoch: shard.epoch, copies, nodes, blocked_by: blockers(round, shard, nodes, input) };
}
