/** `GET /health`: this replica's own view (DESIGN.md §7), answered locally. */
import type { ReplicaRole, ReplicaStatus } from '../../../coordinator/service.js';
import { formatDuration } from './duration.js';

export interface ReplicaHealth {
  /** `ok` when the replica knows a leader (it can serve writes); `no_leader` during an election or without a quorum. */
  readonly status: 'ok' | 'no_leader';
  readonly id: string;
  readonly role: ReplicaRole;
  /** null when no leader is known. */
  readonly leader: string | null;
  readonly term: number;
  readonly commit_index: number;
  readonly applied_index: number;
  readonly state_hash: string;
  readonly cluster_id: string;
  readonly version: string;
  readonly started_at_ms: number;
  readonly uptime: string;
  readonly uptime_ms: number;
}

export function replicaHealth(s: ReplicaStatus, nowMs: number): ReplicaHealth {
  const uptimeMs = Math.max(0, nowMs - s.startedAtMs);
  return {
    status: s.leader === '' ? 'no_leader' : 'ok',
    id: s.id,
    role: s.role,
    leader: s.leader === '' ? null : s.leader,
    term: s.term,
    commit_index: s.commitIndex,
    applied_index: s.appliedIndex,
    state_hash: s.stateHash,
    cluster_id: s.clusterId,
    version: s.version,
    started_at_ms: s.startedAtMs,
    uptime: formatDuration(uptimeMs),
    uptime_ms: uptimeMs,
  };
}
