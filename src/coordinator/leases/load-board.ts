/**
 * Per-shard load as the data nodes report it with their lease renewals, kept
 * by the leader only (a measurement, not state: nothing replicates it, and a
 * new leader starts empty until the next renewals). Each renewal replaces
 * what the node reported before; a report older than `maxAgeMs` is not
 * shown (the node stopped renewing).
 */
import type { NodeId } from '../routing/index.js';

/** The coordinator's copy of the contract's ShardLoad (src/datanode/contract.ts). */
export interface LoadReport {
  readonly shard: number;
  readonly readsPerS: number;
  readonly writesPerS: number;
  readonly bytesPerS: number;
}

export interface Load {
  readonly readsPerS: number;
  readonly writesPerS: number;
  readonly bytesPerS: number;
}

export const NO_LOAD: Load = { readsPerS: 0, writesPerS: 0, bytesPerS: 0 };

/** One number to compare nodes by: requests per second (reads and writes alike). */
export const requestsPerS = (l: Load): number => l.readsPerS + l.writesPerS;

const add = (a: Load, b: Load): Load => ({ readsPerS: a.readsPerS + b.readsPerS, writesPerS: a.writesPerS + b.writesPerS, bytesPerS: a.bytesPerS + b.bytesPerS });

interface NodeReport {
  readonly atMs: number;
  readonly shards: readonly LoadReport[];
}

export class LoadBoard {
  private readonly reports = new Map<NodeId, NodeReport>();

  record(nodeId: NodeId, shards: readonly LoadReport[] | undefined, atMs: number): void {
    // An older node reports nothing: it is not known to be idle, so nothing is recorded.
    if (shards === undefined) return;
    this.reports.set(nodeId, { atMs, shards });
  }

  clear(): void {
    this.reports.clear();
  }

  /** Each node's current report (fresh ones only), shard by shard. */
  current(nowMs: number, maxAgeMs: number): Map<NodeId, readonly LoadReport[]> {
    const out = new Map<NodeId, readonly LoadReport[]>();
    for (const [id, r] of this.reports) if (nowMs - r.atMs <= maxAgeMs) out.set(id, r.shards);
    return out;
  }

  /** A node's load summed over its shards, or null when it has no fresh report. */
  nodeLoad(nodeId: NodeId, nowMs: number, maxAgeMs: number): Load | null {
    const r = this.reports.get(nodeId);
    if (r === undefined || nowMs - r.atMs > maxAgeMs) return null;
    return r.shards.reduce<Load>(add, NO_LOAD);
  }

  /** A shard's load summed over the nodes that report it (reads may be served by any copy that serves). */
  shardLoads(nowMs: number, maxAgeMs: number): Map<number, Load> {
    const out = new Map<number, Load>();
    for (const shards of this.current(nowMs, maxAgeMs).values()) for (const s of shards) out.set(s.shard, add(out.get(s.shard) ?? NO_LOAD, s));
    return out;
  }
}
