/**
 * Recovery progress as the data nodes report it with their lease renewals,
 * kept by the leader only (it is progress, not state: nothing replicates it).
 * Each renewal replaces what the node reported before, so the board holds at
 * most one report per node of the table; a report older than `maxAgeMs` is
 * not shown (the node stopped renewing, or stopped recovering).
 */
import { shardById, type RoutingState } from '../routing/index.js';

/** The coordinator's copy of the contract's RecoveryProgress (src/datanode/contract.ts; the API checks they agree). */
export interface RecoveryReport {
  readonly shard: number;
  readonly copiedKeys: number;
  readonly totalKeys: number | null;
}

export interface ShardRecovery {
  readonly node: string;
  readonly copiedKeys: number;
  readonly totalKeys: number | null;
}

interface NodeReports {
  readonly atMs: number;
  readonly byShard: ReadonlyMap<number, RecoveryReport>;
}

export class RecoveryBoard {
  private readonly reports = new Map<string, NodeReports>();

  record(nodeId: string, reports: readonly RecoveryReport[], atMs: number): void {
    if (reports.length === 0) {
      this.reports.delete(nodeId);
      return;
    }
    this.reports.set(nodeId, { atMs, byShard: new Map(reports.map((r) => [r.shard, r])) });
  }

  clear(): void {
    this.reports.clear();
  }

  /**
   * The progress of a copy of `shardId` that is recovering (a replica outside
   * the in-sync set) and reported within `maxAgeMs`; the first by node id if
   * several are. null when none is.
   */
  recoveryOf(state: RoutingState, shardId: number, nowMs: number, maxAgeMs: number): ShardRecovery | null {
    const shard = shardById(state, shardId);
    if (shard === undefined) return null;
    for (const node of shard.replicas) {
      if (shard.inSync.includes(node)) continue;
      const reports = this.reports.get(node);
      if (reports === undefined || nowMs - reports.atMs > maxAgeMs) continue;
      const report = reports.byShard.get(shardId);
      if (report !== undefined) return { node, copiedKeys: report.copiedKeys, totalKeys: report.totalKeys };
    }
    return null;
  }
}
