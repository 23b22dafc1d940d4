/** The commands the planner emits, each stamped with the time, a reason and the shard's current epoch. */
import type { NodeRecord, ShardRecord } from '../routing/index.js';
import type { PlannedStep } from './types.js';

const MAX_REASON_CHARS = 1_000;
const clip = (reason: string) => (reason.length <= MAX_REASON_CHARS ? reason : `${reason.slice(0, MAX_REASON_CHARS - 1)}…`);

const onShard = (shard: ShardRecord, nowMs: number, reason: string) => ({
  atMs: nowMs,
  reason: clip(reason),
  shardId: shard.id,
  expectedEpoch: shard.epoch,
});

const sorted = (ids: readonly string[]) => [...ids].sort();

export function assignStep(shard: ShardRecord, primary: string, replicas: readonly string[], nowMs: number, reason: string): PlannedStep {
  return { command: { type: 'assignShard', ...onShard(shard, nowMs, reason), primary, replicas: sorted(replicas) }, demotes: null };
}

export function promoteStep(shard: ShardRecord, nodeId: string, nowMs: number, reason: string): PlannedStep {
  return { command: { type: 'promotePrimary', ...onShard(shard, nowMs, reason), nodeId }, demotes: shard.primary };
}

/** The shard's copies become exactly `primary` + `replicas`; whoever held the primary before loses it if it changes. */
export function moveStep(shard: ShardRecord, primary: string | null, replicas: readonly string[], nowMs: number, reason: string): PlannedStep {
  return {
    command: { type: 'moveShard', ...onShard(shard, nowMs, reason), primary, replicas: sorted(replicas) },
    demotes: primary !== shard.primary ? shard.primary : null,
  };
}

/** Takes `nodeId` out of the shard's in-sync set: the primary stops waiting for it. */
export function outOfSyncStep(shard: ShardRecord, nodeId: string, nowMs: number, reason: string): PlannedStep {
  return { command: { type: 'setInSync', ...onShard(shard, nowMs, reason), nodeId, inSync: false }, demotes: null };
}

export function leftStep(node: NodeRecord, nowMs: number, reason: string): PlannedStep {
  return {
    command: { type: 'setNodeStatus', atMs: nowMs, reason: clip(reason), nodeId: node.id, status: 'left', expectedStatus: node.status },
    demotes: null,
  };
}

export function finishEvacuationStep(node: NodeRecord, nowMs: number, reason: string): PlannedStep {
  return { command: { type: 'finishEvacuation', atMs: nowMs, reason: clip(reason), nodeId: node.id }, demotes: null };
}

/** Ends the node's maintenance if its TTL has run out when the command applies (a window renewed meanwhile stays). */
export function maintenanceExpiryStep(node: NodeRecord, nowMs: number): PlannedStep {
  return {
    command: { type: 'setMaintenance', atMs: nowMs, reason: `${node.id}'s maintenance TTL ran out`, nodeIds: [node.id], enabled: false, onlyExpired: true },
    demotes: null,
  };
}

/** A node whose restart window ran out is an ordinary node again: probed, and declared failed if it is down. */
export function restartExpiryStep(node: NodeRecord, nowMs: number): PlannedStep {
  return {
    command: { type: 'setNodeStatus', atMs: nowMs, reason: `${node.id} was restarting and did not come back within its restart window`, nodeId: node.id, status: 'unknown', expectedStatus: 'restarting' },
    demotes: null,
  };
}

export function evacuationStallStep(node: NodeRecord, startedAtMs: number, stalledReason: string | null, nowMs: number): PlannedStep {
  const reason = stalledReason === null ? `${node.id}'s evacuation can go on` : `${node.id}'s evacuation is stalled`;
  return {
    command: { type: 'setEvacuationStall', atMs: nowMs, reason, nodeId: node.id, startedAtMs, stalledReason: stalledReason === null ? null : clip(stalledReason) },
    demotes: null,
  };
}
