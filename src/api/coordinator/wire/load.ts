/** A node's or a shard's load as `GET /nodes` and `GET /shards` show it (leader-local: null on followers and without a fresh report). */
import type { Load } from '../../../coordinator/leases/index.js';

export interface LoadInfo {
  readonly reads_per_s: number;
  readonly writes_per_s: number;
  readonly bytes_per_s: number;
}

const round = (n: number) => Math.round(n * 100) / 100;

export function loadInfo(load: Load | null | undefined): LoadInfo | null {
  return load === null || load === undefined ? null : { reads_per_s: round(load.readsPerS), writes_per_s: round(load.writesPerS), bytes_per_s: round(load.bytesPerS) };
}
