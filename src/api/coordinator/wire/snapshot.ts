/**
 * `GET /cluster/snapshot`: the routing table of a linearizable read, whole,
 * with the Raft index it was read at and its state hash, as `torua snapshot
 * save` keeps it. `state` is exactly the state of the replicas' own
 * snapshots (routing/snapshot.ts), so it can be checked with the same code.
 */
import type { StateRead } from '../../../coordinator/service.js';
import { SNAPSHOT_FORMAT, SNAPSHOT_VERSION, stateHash, type RoutingState } from '../../../coordinator/routing/index.js';

export interface SnapshotInfo {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly version: typeof SNAPSHOT_VERSION;
  readonly cluster_id: string;
  /** The Raft index of the table: every change committed up to it is in it, none after. */
  readonly applied_index: number;
  /** stateHash of `state`: equal on every replica that applied this index. */
  readonly state_hash: string;
  /** This replica's clock when it answered. */
  readonly taken_at_ms: number;
  readonly state: RoutingState;
}

export function snapshotInfo(read: StateRead, nowMs: number): SnapshotInfo {
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    cluster_id: read.state.clusterId,
    applied_index: read.appliedIndex,
    state_hash: stateHash(read.state),
    taken_at_ms: nowMs,
    state: read.state,
  };
}
