/** A shard as `GET /shards` shows it (DESIGN.md §7). */
import type { ShardRecord, ShardState } from '../../../coordinator/routing/index.js';

export interface ShardInfo {
  readonly id: number;
  readonly primary: string | null;
  readonly replicas: readonly string[];
  readonly in_sync: readonly string[];
  /** The compare-and-set token: `POST /shards/:id/assign` must name it as `expectedEpoch`. */
  readonly epoch: number;
  readonly state: ShardState;
}

export function shardInfo(s: ShardRecord): ShardInfo {
  return { id: s.id, primary: s.primary, replicas: s.replicas, in_sync: s.inSync, epoch: s.epoch, state: s.state };
}
