/** `GET /cluster/info` (DESIGN.md §7): the cluster as this replica's table and Raft state see it. */
import type { ReplicaStatus, StateRead } from '../../../coordinator/service.js';
import { clusterCounts, clusterHealth, type HealthColor } from '../../../coordinator/routing/index.js';
import { formatDuration } from './duration.js';
import { readMeta, type ReadMeta } from './read-meta.js';

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
  /** Why the state is not green, worst first. */
  readonly cluster_state_reasons: readonly string[];
  /** This replica's uptime. */
  readonly uptime: string;
  readonly uptime_ms: number;
}

export function clusterInfo(status: ReplicaStatus, read: StateRead, leaderAddress: string | undefined, nowMs: number): ClusterInfo {
  const counts = clusterCounts(read.state);
  const health = clusterHealth(read.state);
  // The table cannot know it lost its quorum; the replica can (DESIGN.md §5: no quorum is red).
  const noLeader = status.leader === '';
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
    cluster_state: noLeader ? 'red' : health.status,
    cluster_state_reasons: noLeader ? ['no leader known (election running, or no quorum reachable)', ...health.reasons] : health.reasons,
    uptime: formatDuration(uptimeMs),
    uptime_ms: uptimeMs,
    ...readMeta(read),
  };
}
