/** A shard as `GET /shards` shows it (DESIGN.md §7). */
import type { ShardRecovery } from '../../../coordinator/leases/index.js';
import type { ShardRecord, ShardState } from '../../../coordinator/routing/index.js';

/** A recovering copy's progress as its node reported it with its last lease renewal. */
export interface ShardRecoveryInfo {
  readonly node: string;
  readonly copied_keys: number;
  /** Keys in the primary's snapshot; null until the node knows. */
  readonly total_keys: number | null;
}

export interface ShardInfo {
  readonly id: number;
  readonly primary: string | null;
  readonly replicas: readonly string[];
  readonly in_sync: readonly string[];
  /** The compare-and-set token: `POST /shards/:id/assign` must name it as `expectedEpoch`. */
  readonly epoch: number;
  readonly state: ShardState;
  /**
   * The progress of a copy being filled, or null. Leader-local (nodes report
   * it to the leader with their lease renewals, nothing replicates it): a
   * follower always answers null, and so does a leader elected since.
   */
  readonly recovery: ShardRecoveryInfo | null;
}

export function shardInfo(s: ShardRecord, recovery: ShardRecovery | null = null): ShardInfo {
  return {
    id: s.id,
    primary: s.primary,
    replicas: s.replicas,
    in_sync: s.inSync,
    epoch: s.epoch,
    state: s.state,
    recovery: recovery === null ? null : { node: recovery.node, copied_keys: recovery.copiedKeys, total_keys: recovery.totalKeys },
  };
}
