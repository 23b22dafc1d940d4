/**
 * Handlers of the commands that change a shard. Each is a compare-and-set on
 * the shard's epoch, and each successful change bumps it.
 */
import type { AssignShard, MoveShard, PromotePrimary, SetInSync } from './commands.js';
import { withNode } from './apply-node.js';
import { copyCounts, nodeById, shardById } from './lookup.js';
import { acceptsNewCopies, canServe, statusRules } from './node-status.js';
import { reject, unchanged, type Outcome } from './outcome.js';
import { copiesOf, makeShard } from './shard-state.js';
import type { NodeId, Rejection, RoutingState, ShardRecord } from './types.js';

type ShardCommand = AssignShard | MoveShard | SetInSync | PromotePrimary;

/** The shard the command is about, if it exists and is still at the expected epoch. */
function target(state: RoutingState, c: ShardCommand): ShardRecord | Rejection {
  const shard = shardById(state, c.shardId);
  if (shard === undefined) return reject('UNKNOWN_SHARD', `no shard ${c.shardId}: the cluster has shards 0..${state.shards.length - 1}`, 'shardId');
  if (shard.epoch !== c.expectedEpoch) {
    return reject('STALE_EPOCH', `shard ${c.shardId} is at epoch ${shard.epoch}, the command expected ${c.expectedEpoch}`, 'expectedEpoch');
  }
  return shard;
}

const isRejection = (v: ShardRecord | Rejection | undefined): v is Rejection => v !== undefined && 'ok' in v;

/** Nodes that get a copy they did not have must exist, take new copies, and have room. */
function checkNewCopies(state: RoutingState, shard: ShardRecord, copies: readonly NodeId[]): Rejection | undefined {
  const had = new Set(copiesOf(shard));
  let counts: Map<NodeId, number> | undefined;
  for (const id of copies) {
    if (had.has(id)) continue;
    const node = nodeById(state, id);
    if (node === undefined) return reject('UNKNOWN_NODE', `no node ${id}`);
    if (!acceptsNewCopies(node.status)) return reject('NODE_NOT_AVAILABLE', `node ${id} is ${node.status} and takes no new shard copies`);
    counts ??= copyCounts(state);
    const held = counts.get(id) ?? 0;
    if (held + 1 > node.capacity) {
      return reject('CAPACITY_EXCEEDED', `node ${id} holds ${held} shard copies and has capacity ${node.capacity}`);
    }
  }
  return undefined;
}

function withShard(state: RoutingState, shard: ShardRecord): RoutingState {
  const shards = state.shards.slice();
  shards[shard.id] = shard;
  return { ...state, shards };
}

const list = (ids: readonly NodeId[]) => `[${ids.join(',')}]`;
const configText = (s: ShardRecord) => `primary ${s.primary ?? '-'}, replicas ${list(s.replicas)}, in sync ${list(s.inSync)}`;

function changed(state: RoutingState, before: ShardRecord, after: ShardRecord, kind: 'shard-assigned' | 'shard-moved' | 'shard-in-sync' | 'shard-out-of-sync' | 'shard-promoted', what: string): Outcome {
  return {
    ok: true,
    state: withShard(state, after),
    result: { ok: true, changed: true, subject: 'shard', shard: after },
    events: [{ kind, shard: after.id, message: `shard ${after.id} epoch ${before.epoch} → ${after.epoch}: ${what}` }],
  };
}

export function assignShard(state: RoutingState, c: AssignShard): Outcome {
  const shard = target(state, c);
  if (isRejection(shard)) return shard;
  if (copiesOf(shard).length > 0) return reject('SHARD_ASSIGNED', `shard ${c.shardId} already has copies (${configText(shard)}): use moveShard`);
  const copies = [c.primary, ...c.replicas];
  const refused = checkNewCopies(state, shard, copies);
  if (refused) return refused;
  // Nothing has been written to a shard without copies, so every new copy is complete.
  const next = makeShard(shard.id, shard.epoch + 1, c.primary, c.replicas, copies);
  return changed(state, shard, next, 'shard-assigned', configText(next));
}

export function moveShard(state: RoutingState, c: MoveShard): Outcome {
  const shard = target(state, c);
  if (isRejection(shard)) return shard;
  if (copiesOf(shard).length === 0) return reject('SHARD_UNASSIGNED', `shard ${c.shardId} has no copies: use assignShard`);
  if (c.primary !== null && !shard.inSync.includes(c.primary)) {
    return reject('NOT_IN_SYNC', `${c.primary} is not an in-sync copy of shard ${c.shardId} (in sync: ${list(shard.inSync)}): only one can be primary`, 'primary');
  }
  const copies = c.primary === null ? c.replicas : [c.primary, ...c.replicas];
  const refused = checkNewCopies(state, shard, copies);
  if (refused) return refused;
  // Kept copies keep their standing; new ones must be filled from the primary and join through setInSync.
  // A primary handed over and kept as a replica must resync, as in promotePrimary.
  const demoted = c.primary !== shard.primary ? shard.primary : null;
  const next = makeShard(shard.id, shard.epoch + 1, c.primary, c.replicas, shard.inSync.filter((id) => copies.includes(id) && id !== demoted));
  if (next.primary === shard.primary && next.replicas.join() === shard.replicas.join()) {
    return unchanged(state, { ok: true, changed: false, subject: 'shard', shard });
  }
  return changed(state, shard, next, 'shard-moved', `${configText(shard)} → ${configText(next)}`);
}

export function setInSync(state: RoutingState, c: SetInSync): Outcome {
  const shard = target(state, c);
  if (isRejection(shard)) return shard;
  if (!copiesOf(shard).includes(c.nodeId)) return reject('NOT_A_COPY', `${c.nodeId} holds no copy of shard ${c.shardId} (${configText(shard)})`, 'nodeId');
  if (shard.inSync.includes(c.nodeId) === c.inSync) return unchanged(state, { ok: true, changed: false, subject: 'shard', shard });
  if (!c.inSync) {
    if (c.nodeId === shard.primary) {
      return reject('INVALID_TRANSITION', `${c.nodeId} is the primary of shard ${c.shardId}, in sync by definition: promote another copy first`, 'nodeId');
    }
    const next = makeShard(shard.id, shard.epoch + 1, shard.primary, shard.replicas, shard.inSync.filter((id) => id !== c.nodeId));
    return changed(state, shard, next, 'shard-out-of-sync', `${c.nodeId} left the in-sync set`);
  }
  // Catching up means catching up with a primary; without one, "in sync" would make a stale copy promotable.
  if (shard.primary === null) return reject('NO_PRIMARY', `shard ${c.shardId} has no primary for ${c.nodeId} to have caught up with`);
  const node = nodeById(state, c.nodeId);
  // A node back from a restart (still `restarting`) may rejoin: in sync means it holds every acknowledged write; it is not promoted meanwhile.
  if (node === undefined || !(canServe(node.status) || statusRules(node.status).keepsCopies)) return reject('NODE_NOT_AVAILABLE', `node ${c.nodeId} is ${node?.status ?? 'gone'}`, 'nodeId');
  const next = makeShard(shard.id, shard.epoch + 1, shard.primary, shard.replicas, [...shard.inSync, c.nodeId]);
  const copied = c.copiedBytes === undefined ? '' : ` (${c.copiedBytes} bytes copied)`;
  return changed(creditEvacuations(state, shard, c), shard, next, 'shard-in-sync', `${c.nodeId} joined the in-sync set${copied}`);
}

/** A copy rebuilt while a node holding the shard is evacuating is that evacuation's work: its bytes count there. */
function creditEvacuations(state: RoutingState, shard: ShardRecord, c: SetInSync): RoutingState {
  if (c.copiedBytes === undefined || c.copiedBytes === 0) return state;
  let next = state;
  for (const id of copiesOf(shard)) {
    const node = nodeById(next, id);
    if (id === c.nodeId || node?.status !== 'evacuating' || node.evacuation === undefined) continue;
    next = withNode(next, { ...node, evacuation: { ...node.evacuation, bytesCopied: node.evacuation.bytesCopied + c.copiedBytes } });
  }
  return next;
}

export function promotePrimary(state: RoutingState, c: PromotePrimary): Outcome {
  const shard = target(state, c);
  if (isRejection(shard)) return shard;
  if (shard.primary === c.nodeId) return unchanged(state, { ok: true, changed: false, subject: 'shard', shard });
  if (!shard.inSync.includes(c.nodeId)) {
    return reject('NOT_IN_SYNC', `${c.nodeId} is not an in-sync copy of shard ${c.shardId} (in sync: ${list(shard.inSync)})`, 'nodeId');
  }
  const node = nodeById(state, c.nodeId);
  if (node === undefined || !canServe(node.status)) return reject('NODE_NOT_AVAILABLE', `node ${c.nodeId} is ${node?.status ?? 'gone'}`, 'nodeId');
  const old = shard.primary;
  // The old primary may have stored writes nobody acknowledged: it stays as a copy, but must resync —
  // unless it handed off caught up (keepInSync), then it holds exactly what the in-sync replicas hold.
  const keep = c.keepInSync === true && old !== null;
  const replicas = [...shard.replicas.filter((id) => id !== c.nodeId), ...(old === null ? [] : [old])];
  const next = makeShard(shard.id, shard.epoch + 1, c.nodeId, replicas, keep ? shard.inSync : shard.inSync.filter((id) => id !== old));
  const standing = old === null ? '' : keep ? `, ${old} stays in sync (handed off caught up)` : `, ${old} out of sync`;
  return changed(state, shard, next, 'shard-promoted', `primary ${old ?? '-'} → ${c.nodeId}${standing}`);
}
