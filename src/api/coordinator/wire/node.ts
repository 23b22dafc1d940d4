/** A data node as `GET /nodes` and `GET /nodes/:id/info` show it (DESIGN.md §7). */
import type { LocalStatus, NodeHealthView, ProbePath } from '../../../coordinator/health/index.js';
import { evacuationView, shardsOfNode, type NodeStatus, type NodeSummary, type RoutingState } from '../../../coordinator/routing/index.js';
import { formatDuration } from './duration.js';

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
  /** Since the node registered (as in the table: a restart under the same identity keeps its registration), e.g. `2h03m`. */
  readonly uptime: string;
  readonly uptime_ms: number;
  readonly available_capacity: number;
  readonly version: string;
  readonly capacity: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly registered_at_ms: number;
  readonly status_changed_at_ms: number;
  readonly status_reason: string;
  /** The leader's health monitor's view; null on followers (and on a leader that runs no monitor). */
  readonly health: NodeHealthInfo | null;
  /** While the status is `maintenance`: why, since when, and until when (null: until turned off). */
  readonly maintenance: MaintenanceInfo | null;
  /** While the status is `restarting` (a rolling upgrade): since when, until when it is not declared failed, and into which version. */
  readonly restart: { readonly since_ms: number; readonly until_ms: number; readonly version: string } | null;
  /** The node's latest evacuation (running, done or cancelled), null if it never had one. Replicated: every replica shows the same. */
  readonly evacuation: EvacuationInfo | null;
  /** The cluster settings version the node said it runs (with its lease renewals); null until it has. */
  readonly config_version: number | null;
}

export interface MaintenanceInfo {
  readonly reason: string;
  readonly since_ms: number;
  readonly until_ms: number | null;
}

export interface EvacuationInfo {
  readonly state: 'running' | 'done' | 'cancelled';
  readonly reason: string;
  readonly started_at_ms: number;
  readonly ended_at_ms: number | null;
  /** Copies the node held when it started. */
  readonly total: number;
  readonly moved: number;
  /** Copies it still holds (0 exactly when done). */
  readonly remaining: number;
  /** Bytes of keys and values copied into the new copies so far, as their primaries counted them when each joined the in-sync set. */
  readonly bytes_copied: number;
  /** At the pace so far; null until a copy has moved. */
  readonly eta_ms: number | null;
  readonly stalled_reason: string | null;
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

function evacuationInfo(state: RoutingState, id: string, nowMs: number): EvacuationInfo | null {
  const v = evacuationView(state, id, nowMs);
  if (v === null) return null;
  return {
    state: v.state,
    reason: v.reason,
    started_at_ms: v.startedAtMs,
    ended_at_ms: v.endedAtMs,
    total: v.total,
    moved: v.moved,
    remaining: v.remaining,
    bytes_copied: v.bytesCopied,
    eta_ms: v.etaMs,
    stalled_reason: v.stalledReason,
  };
}

/** `health`: the leader's view of this node, if this replica has one; `nowMs` this replica's clock (uptime, ETA). */
export function nodeInfo(state: RoutingState, n: NodeSummary, health: NodeHealthView | null, nowMs: number): NodeInfo {
  const uptimeMs = Math.max(0, nowMs - n.registeredAtMs);
  return {
    id: n.id,
    address: n.address,
    status: n.status,
    shard_count: n.shardCount,
    last_heartbeat: health?.lastSuccessfulProbeMs == null ? null : new Date(health.lastSuccessfulProbeMs).toISOString(),
    uptime: formatDuration(uptimeMs),
    uptime_ms: uptimeMs,
    available_capacity: n.availableCapacity,
    version: n.version,
    capacity: n.capacity,
    labels: n.labels,
    registered_at_ms: n.registeredAtMs,
    status_changed_at_ms: n.statusChangedAtMs,
    status_reason: n.statusReason,
    health: health === null ? null : nodeHealthInfo(health),
    maintenance: n.maintenance === undefined ? null : { reason: n.maintenance.reason, since_ms: n.maintenance.sinceMs, until_ms: n.maintenance.untilMs },
    restart: n.restart === undefined ? null : { since_ms: n.restart.sinceMs, until_ms: n.restart.untilMs, version: n.restart.version },
    evacuation: evacuationInfo(state, n.id, nowMs),
    config_version: n.configVersion ?? null,
  };
}

export function nodeDetail(state: RoutingState, n: NodeSummary, health: NodeHealthView | null, nowMs: number): NodeDetail {
  const shards = shardsOfNode(state, n.id).map((s) => ({ shard: s.shard, role: s.role, in_sync: s.inSync, epoch: s.epoch }));
  return { ...nodeInfo(state, n, health, nowMs), shards };
}
