/** A data node as `GET /nodes` and `GET /nodes/:id/info` show it (DESIGN.md §7). */
import { shardsOfNode, type NodeStatus, type NodeSummary, type RoutingState } from '../../../coordinator/routing/index.js';

export interface NodeInfo {
  readonly id: string;
  readonly address: string;
  readonly status: NodeStatus;
  readonly shard_count: number;
  /**
   * Leader-local facts of the health monitor (issue 5): null until it exists.
   * They are not in the replicated table, so every replica would disagree on them.
   */
  readonly last_heartbeat: null;
  readonly uptime: null;
  readonly available_capacity: number;
  readonly version: string;
  readonly capacity: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly registered_at_ms: number;
  readonly status_changed_at_ms: number;
  readonly status_reason: string;
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

export function nodeInfo(n: NodeSummary): NodeInfo {
  return {
    id: n.id,
    address: n.address,
    status: n.status,
    shard_count: n.shardCount,
    last_heartbeat: null,
    uptime: null,
    available_capacity: n.availableCapacity,
    version: n.version,
    capacity: n.capacity,
    labels: n.labels,
    registered_at_ms: n.registeredAtMs,
    status_changed_at_ms: n.statusChangedAtMs,
    status_reason: n.statusReason,
  };
}

export function nodeDetail(state: RoutingState, n: NodeSummary): NodeDetail {
  const shards = shardsOfNode(state, n.id).map((s) => ({ shard: s.shard, role: s.role, in_sync: s.inSync, epoch: s.epoch }));
  return { ...nodeInfo(n), shards };
}
