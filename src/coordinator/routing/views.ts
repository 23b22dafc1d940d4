/** Derived, read-only views of the table for the REST and tRPC API. Pure functions of the state. */
import { eventsSince as ringSince } from './events.js';
import { copyCounts, nodeById, nodesInOrder } from './lookup.js';
import { canServe, copiesMoveAway, statusRules } from './node-status.js';
import { copiesOf } from './shard-state.js';
import { shardsHeldBy } from './shard-index.js';
import type { NodeId, NodeRecord, RoutingEvent, RoutingState, ShardRecord } from './types.js';

export type HealthColor = 'green' | 'yellow' | 'red';

export interface ClusterHealth {
  readonly status: HealthColor;
  /** Why not green, worst first; at most MAX_REASONS. */
  readonly reasons: readonly string[];
}

const MAX_REASONS = 10;

function servesOn(state: RoutingState, id: NodeId): boolean {
  const node = nodeById(state, id);
  return node !== undefined && canServe(node.status);
}

/**
 * red: a shard without a serving primary (none, or on an unhealthy node).
 * yellow: every shard has one, but some copy is missing (fewer than
 * replicationFactor), recovering, on a node that cannot serve, or on a node
 * whose copies must move away (maintenance, evacuating, draining).
 * green: every shard has all its copies, all in sync, all on serving nodes.
 * ("No quorum" is red too, but that is the replica's to know, not the table's.)
 */
export function clusterHealth(state: RoutingState): ClusterHealth {
  const red: string[] = [];
  const yellow: string[] = [];
  const factor = state.config.settings.replicationFactor;
  for (const shard of state.shards) {
    if (shard.primary === null) {
      red.push(`shard ${shard.id} has no primary`);
      continue;
    }
    if (!servesOn(state, shard.primary)) {
      red.push(`shard ${shard.id}: primary ${shard.primary} is ${nodeById(state, shard.primary)?.status ?? 'gone'}`);
      continue;
    }
    const copies = copiesOf(shard);
    if (copies.length < factor) yellow.push(`shard ${shard.id} has ${copies.length} of ${factor} copies`);
    const behind = shard.replicas.filter((r) => !shard.inSync.includes(r));
    if (behind.length > 0) yellow.push(`shard ${shard.id}: ${behind.join(', ')} recovering`);
    const down = shard.replicas.filter((r) => shard.inSync.includes(r) && !servesOn(state, r));
    if (down.length > 0) yellow.push(`shard ${shard.id}: replica ${down.join(', ')} cannot serve`);
    const moving = copies.filter((id) => copiesMoveAway(nodeById(state, id)?.status ?? 'left'));
    if (moving.length > 0) yellow.push(`shard ${shard.id}: copies on ${moving.map((id) => `${id} (${nodeById(state, id)?.status})`).join(', ')} are moving away`);
  }
  const status: HealthColor = red.length > 0 ? 'red' : yellow.length > 0 ? 'yellow' : 'green';
  const all = [...red, ...yellow];
  const reasons = all.length > MAX_REASONS ? [...all.slice(0, MAX_REASONS - 1), `and ${all.length - MAX_REASONS + 1} more`] : all;
  return { status, reasons };
}

export interface ClusterCounts {
  /** Nodes in the table that have not left. */
  readonly totalNodes: number;
  readonly healthyNodes: number;
  readonly totalShards: number;
  /** Shards with a primary. */
  readonly assignedShards: number;
}

export function clusterCounts(state: RoutingState): ClusterCounts {
  const nodes = Object.values(state.nodes).filter((n) => n.status !== 'left');
  return {
    totalNodes: nodes.length,
    healthyNodes: nodes.filter((n) => statusRules(n.status).healthCount === 'healthy').length,
    totalShards: state.shards.length,
    assignedShards: state.shards.filter((s) => s.primary !== null).length,
  };
}

export interface NodeLoad {
  readonly primaries: number;
  readonly replicas: number;
  /** primaries + replicas: what capacity limits. */
  readonly total: number;
}

/** Every node of the table with its copy counts (zeros included). */
export function nodeShardCounts(state: RoutingState): Record<NodeId, NodeLoad> {
  const out: Record<NodeId, { primaries: number; replicas: number; total: number }> = {};
  for (const node of nodesInOrder(state)) out[node.id] = { primaries: 0, replicas: 0, total: 0 };
  const at = (id: NodeId) => (Object.hasOwn(out, id) ? out[id] : undefined);
  for (const shard of state.shards) {
    if (shard.primary !== null) {
      const load = at(shard.primary);
      if (load) (load.primaries++, load.total++);
    }
    for (const r of shard.replicas) {
      const load = at(r);
      if (load) (load.replicas++, load.total++);
    }
  }
  return out;
}

/** Copies the node may still take: capacity minus what it holds, never below 0 (capacity may be lowered). */
export function availableCapacity(state: RoutingState, id: NodeId): number {
  const node = nodeById(state, id);
  if (node === undefined) return 0;
  return Math.max(0, node.capacity - (copyCounts(state).get(id) ?? 0));
}

export interface NodeShard {
  readonly shard: number;
  readonly role: 'primary' | 'replica';
  readonly inSync: boolean;
  readonly epoch: number;
}

/** The shards a node holds a copy of, for `/nodes/:id/info` and a data node's view of its assignment. */
export function shardsOfNode(state: RoutingState, id: NodeId): NodeShard[] {
  return shardsHeldBy(state.shards, id).map((s: ShardRecord) => ({ shard: s.id, role: s.primary === id ? 'primary' : 'replica', inSync: s.inSync.includes(id), epoch: s.epoch }));
}

export interface NodeSummary extends NodeRecord {
  readonly shardCount: number;
  readonly availableCapacity: number;
}

/** `GET /nodes` without the leader-local fields (last heartbeat, uptime), in id order. */
export function nodeSummaries(state: RoutingState): NodeSummary[] {
  const counts = copyCounts(state);
  return nodesInOrder(state).map((n) => {
    const held = counts.get(n.id) ?? 0;
    return { ...n, shardCount: held, availableCapacity: Math.max(0, n.capacity - held) };
  });
}

/** `GET /events?since=N`. */
export function eventsSince(state: RoutingState, since: number): RoutingEvent[] {
  return ringSince(state.events, since);
}

export interface EvacuationView {
  readonly startedAtMs: number;
  readonly state: 'running' | 'done' | 'cancelled';
  readonly total: number;
  readonly moved: number;
  /** Copies the node still holds, from the shards themselves: done means none. */
  readonly remaining: number;
  /** At the pace so far; null before the first copy moved (or after a cancel), 0 when done. */
  readonly etaMs: number | null;
  readonly stalledReason: string | null;
  readonly bytesCopied: number;
  readonly reason: string;
  readonly endedAtMs: number | null;
}

/** The node's latest evacuation as `/nodes/:id/info` shows it (the reader's clock for the ETA), or null when it had none. */
export function evacuationView(state: RoutingState, id: NodeId, nowMs: number): EvacuationView | null {
  const ev = nodeById(state, id)?.evacuation;
  if (ev === undefined) return null;
  const remaining = copyCounts(state).get(id) ?? 0;
  const moved = Math.max(0, ev.total - remaining);
  const elapsedMs = Math.max(1, (ev.endedAtMs ?? nowMs) - ev.startedAtMs);
  const etaMs = remaining === 0 ? 0 : ev.state !== 'running' || moved === 0 ? null : Math.round((elapsedMs / moved) * remaining);
  return { startedAtMs: ev.startedAtMs, state: ev.state, total: ev.total, moved, remaining, etaMs, stalledReason: ev.stalledReason, bytesCopied: ev.bytesCopied, reason: ev.reason, endedAtMs: ev.endedAtMs };
}

export interface ConfigAcks {
  /** Every node that has not left: the settings version it said it runs, null until it has. */
  readonly nodes: Readonly<Record<NodeId, number | null>>;
  /** Serving nodes (they take leases, so the settings reach them) that do not run the current version yet, in id order. */
  readonly missing: readonly NodeId[];
}

/** Which nodes run the current settings: what `PUT /cluster/config?wait=true` waits for. */
export function configAcks(state: RoutingState): ConfigAcks {
  const nodes: Record<NodeId, number | null> = {};
  const missing: NodeId[] = [];
  for (const n of nodesInOrder(state)) {
    if (n.status === 'left') continue;
    nodes[n.id] = n.configVersion ?? null;
    if (canServe(n.status) && (n.configVersion ?? 0) < state.config.version) missing.push(n.id);
  }
  return { nodes, missing };
}
