/** `GET /cluster/info` (DESIGN.md §7): the cluster as this replica's table and Raft state see it. */
import type { ReplicaStatus, StateRead } from '../../../coordinator/service.js';
import { clusterCounts, clusterHealth, type HealthColor } from '../../../coordinator/routing/index.js';
import { formatDuration } from './duration.js';
import { readMeta, type ReadMeta } from './read-meta.js';
import { upgradeInfo, type UpgradeInfo } from './upgrade.js';

export interface ClusterInfo extends ReadMeta {
  readonly cluster_id: string;
  readonly coordinator_version: string;
  readonly leader: string | null;
  readonly leader_address: string | null;
  readonly term: number;
  readonly commit_index: number;
  readonly total_nodes: number;
  readonly healthy_nodes: number;
  readonly total_shards: number;
  readonly assigned_shards: number;
  readonly cluster_state: HealthColor;
  /** Why the state is not green, worst first: what this replica knows (no quorum, no leader, the leader's health monitor), then the table's. */
  readonly cluster_state_reasons: readonly string[];
  /** This replica's uptime. */
  readonly uptime: string;
  readonly uptime_ms: number;
  /** The latest rolling upgrade (running, done or failed), null before the first. */
  readonly upgrade: UpgradeInfo | null;
}

/** What the table cannot know about the cluster's state, and the replica can. */
export interface ReplicaView {
  /** Why this replica cannot serve a linearizable read (no quorum), or null when it can or was not asked. */
  readonly noQuorum: string | null;
  /**
   * The leader's own reasons for red that the table does not show (the
   * health monitor's: a storm guard holding off a failure decision); [] on
   * followers and before the monitor exists.
   */
  readonly leaderReasons: readonly string[];
}

const NO_VIEW: ReplicaView = { noQuorum: null, leaderReasons: [] };

/** Reasons are a bounded list (like clusterHealth's): the worst ones first, then how many more. */
const MAX_REASONS = 12;

export function clusterInfo(status: ReplicaStatus, read: StateRead, leaderAddress: string | undefined, nowMs: number, view: ReplicaView = NO_VIEW): ClusterInfo {
  const counts = clusterCounts(read.state);
  const health = clusterHealth(read.state);
  // The table cannot know it lost its quorum; the replica can (DESIGN.md §5: no quorum is red).
  const noLeader = status.leader === '';
  const replicaReasons = [
    ...(view.noQuorum === null ? [] : [`no quorum: ${view.noQuorum}`]),
    ...(noLeader ? ['no leader known (election running, or no quorum reachable)'] : []),
    ...view.leaderReasons,
    ...(read.state.restoring === undefined
      ? []
      : [`recovering from a restored snapshot (index ${read.state.restoring.snapshotIndex}): no lease, placement or failover until the nodes have reported what they hold`]),
  ];
  const reasons = [...replicaReasons, ...health.reasons];
  const uptimeMs = Math.max(0, nowMs - status.startedAtMs);
  return {
    cluster_id: read.state.clusterId,
    coordinator_version: status.version,
    leader: noLeader ? null : status.leader,
    leader_address: noLeader ? null : (leaderAddress ?? null),
    term: status.term,
    commit_index: status.commitIndex,
    total_nodes: counts.totalNodes,
    healthy_nodes: counts.healthyNodes,
    total_shards: counts.totalShards,
    assigned_shards: counts.assignedShards,
    cluster_state: replicaReasons.length > 0 ? 'red' : health.status,
    cluster_state_reasons: reasons.length > MAX_REASONS ? [...reasons.slice(0, MAX_REASONS - 1), `and ${reasons.length - MAX_REASONS + 1} more`] : reasons,
    uptime: formatDuration(uptimeMs),
    uptime_ms: uptimeMs,
    upgrade: upgradeInfo(read.state.upgrade),
    ...readMeta(read),
  };
}
