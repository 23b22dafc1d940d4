/** A data node as `GET /nodes` and `GET /nodes/:id/info` show it (DESIGN.md §7). */
import type { LocalStatus, NodeHealthView, ProbePath } from '../../../coordinator/health/index.js';
import { shardsOfNode, type NodeStatus, type NodeSummary, type RoutingState } from '../../../coordinator/routing/index.js';

/** The leader's own view of a node from its probes (leader-local, never replicated). */
export interface NodeHealthInfo {
  /** The table's status, or `suspect`: failing probes, not (yet) confirmed by a majority of replicas. */
  readonly status: LocalStatus;
  readonly last_successful_probe_ms_ago: number | null;
  readonly consecutive_failures: number;
  /** `degraded`: this leader cannot reach the node, other replicas can (no decision is made). */
  readonly path: ProbePath;
  /** When the status, path or reason last changed (ms since the epoch), and why. */
  readonly changed_at_ms: number;
  readonly reason: string;
}

export interface NodeInfo {
  readonly id: string;
  readonly address: string;
  readonly status: NodeStatus;
  readonly shard_count: number;
  /**
   * The last successful probe of the leader's health monitor (ISO time), null
   * on followers and before the first one: leader-local facts are not in the
   * replicated table, so the replicas would disagree on them.
   */
  readonly last_heartbeat: string | null;
  /** Not known to the coordinators (a node's own `GET /info` has it). */
  readonly uptime: null;
  readonly available_capacity: number;
  readonly version: string;
  readonly capacity: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly registered_at_ms: number;
  readonly status_changed_at_ms: number;
  readonly status_reason: string;
  /** The leader's health monitor's view; null on followers (and on a leader that runs no monitor). */
  readonly health: NodeHealthInfo | null;
}

export interface NodeShardInfo {
  readonly shard: number;
  readonly role: 'primary' | 'replica';
  readonly in_sync: boolean;
  readonly epoch: number;
}

export interface NodeDetail extends NodeInfo {
  readonly shards: readonly NodeShardInfo[];
}

export function nodeHealthInfo(view: NodeHealthView): NodeHealthInfo {
  return {
    status: view.status,
    last_successful_probe_ms_ago: view.lastSuccessfulProbeAgoMs,
    consecutive_failures: view.consecutiveFailures,
    path: view.path,
    changed_at_ms: view.changedAtMs,
    reason: view.reason,
  };
}

/** `health`: the leader's view of this node, if this replica has one. */
export function nodeInfo(n: NodeSummary, health: NodeHealthView | null): NodeInfo {
  return {
    id: n.id,
    address: n.address,
    status: n.status,
    shard_count: n.shardCount,
    last_heartbeat: health?.lastSuccessfulProbeMs == null ? null : new Date(health.lastSuccessfulProbeMs).toISOString(),
    uptime: null,
    available_capacity: n.availableCapacity,
    version: n.version,
    capacity: n.capacity,
    labels: n.labels,
    registered_at_ms: n.registeredAtMs,
    status_changed_at_ms: n.statusChangedAtMs,
    status_reason: n.statusReason,
    health: health === null ? null : nodeHealthInfo(health),
  };
}

export function nodeDetail(state: RoutingState, n: NodeSummary, health: NodeHealthView | null): NodeDetail {
  const shards = shardsOfNode(state, n.id).map((s) => ({ shard: s.shard, role: s.role, in_sync: s.inSync, epoch: s.epoch }));
  return { ...nodeInfo(n, health), shards };
}
