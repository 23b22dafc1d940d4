/**
 * The leader's record, while the cluster recovers from a restore, of the
 * copies each node says it holds, and the plan taken from it: a shard whose
 * holders report an epoch above the restored table's is taken from them.
 *
 * Why that is safe: epochs only grow, and a node takes its epoch from the
 * table, so a copy at a higher epoch than the table's was placed by the lost
 * cluster after the snapshot. Among the copies at the highest epoch, the one
 * that was primary (or, with it gone, the in-sync copy with the most writes)
 * holds every acknowledged write: a write was acknowledged only once every
 * in-sync copy had stored it. The adopted record gets an epoch above all
 * reported, so every holder takes it, and lists every copy newer than the
 * table (the ones not in sync recover from the primary), so none is deleted.
 */
import type { AdoptedShard, NodeId, RoutingState } from '../routing/index.js';
import { nodeById } from '../routing/index.js';

export interface HeldCopyReport {
  readonly shard: number;
  readonly epoch: number;
  readonly lastSeq: number;
  readonly primary: string | null;
  readonly inSync: boolean;
}

/** Most copies a shard record lists (the table's own bound: a primary and 15 replicas). */
const MAX_COPIES = 16;

export class RestoreBoard {
  private readonly reports = new Map<NodeId, readonly HeldCopyReport[]>();
  /** When this leader began collecting (its leadership, or the board's first use). */
  private startedAtMs: number | null = null;

  record(node: NodeId, holdings: readonly HeldCopyReport[], nowMs: number): void {
    this.startedAtMs ??= nowMs;
    this.reports.set(node, holdings);
  }

  clear(): void {
    this.reports.clear();
    this.startedAtMs = null;
  }

  /** The nodes of the table that may hold copies and have not reported to this leader yet. */
  missing(state: RoutingState): NodeId[] {
    return Object.values(state.nodes)
      .filter((n) => n.status !== 'left' && !this.reports.has(n.id))
      .map((n) => n.id)
      .sort();
  }

  /** Every node reported, or the wait is over (a node that stays silent cannot be waited for forever). */
  ready(state: RoutingState, nowMs: number, waitMs: number): boolean {
    if (this.startedAtMs === null) return false;
    return this.missing(state).length === 0 || nowMs - this.startedAtMs >= waitMs;
  }

  plan(state: RoutingState): AdoptedShard[] {
    return planAdoption(state, this.reports);
  }
}

/** Pure: the shard records to take from the nodes' reports (only shards some node holds at a newer epoch than the table). */
export function planAdoption(state: RoutingState, reports: ReadonlyMap<NodeId, readonly HeldCopyReport[]>): AdoptedShard[] {
  const byShard = new Map<number, { node: NodeId; copy: HeldCopyReport }[]>();
  for (const [node, held] of reports) {
    const record = nodeById(state, node);
    if (record === undefined || record.status === 'left') continue;
    for (const copy of held) {
      const shard = state.shards[copy.shard];
      if (shard === undefined || copy.epoch <= shard.epoch) continue;
      const list = byShard.get(copy.shard) ?? [];
      list.push({ node, copy });
      byShard.set(copy.shard, list);
    }
  }
  const adopted: AdoptedShard[] = [];
  for (const [shardId, holders] of [...byShard].sort((a, b) => a[0] - b[0])) {
    const table = state.shards[shardId]!;
    const top = Math.max(...holders.map((h) => h.copy.epoch));
    const newest = holders.filter((h) => h.copy.epoch === top && h.copy.inSync);
    const claimed = newest.find((h) => h.copy.primary === h.node);
    const mostWrites = [...newest].sort((a, b) => b.copy.lastSeq - a.copy.lastSeq || a.node.localeCompare(b.node))[0];
    const primary = claimed ?? mostWrites;
    // Copies that followed another history than the chosen primary's must recover from it.
    const inSync = primary === undefined ? [] : newest.filter((h) => h === primary || h.copy.primary === primary.node).map((h) => h.node);
    const others = holders
      .filter((h) => h !== primary)
      .sort((a, b) => b.copy.epoch - a.copy.epoch || b.copy.lastSeq - a.copy.lastSeq || a.node.localeCompare(b.node))
      .slice(0, MAX_COPIES - 1)
      .map((h) => h.node);
    adopted.push({
      shardId,
      expectedEpoch: table.epoch,
      epoch: top + 1,
      primary: primary?.node ?? null,
      replicas: others.sort(),
      inSync: inSync.filter((n) => n === primary?.node || others.includes(n)).sort(),
    });
  }
  return adopted;
}
