/**
 * Per-node load as it will be once the steps planned so far in this round
 * are applied. Every step of a round is planned on the same table, but the
 * caller applies them one after another: a second copy sent to a node that
 * one more copy fills would be refused. Copies freed by drops are not
 * credited back (a drop may be refused or fenced first), so the ledger only
 * ever errs on the side of a node having less room.
 */
import type { RecoverySettings } from '../../config/index.js';
import { canServe, nodeById, type NodeId, type NodeRecord, type RoutingState } from '../routing/index.js';
import { isStaying } from './node-roles.js';

const bump = (m: Map<NodeId, number>, id: NodeId, by: number) => m.set(id, (m.get(id) ?? 0) + by);

export class Ledger {
  private readonly copies = new Map<NodeId, number>();
  private readonly primaries = new Map<NodeId, number>();
  /** Replicas still being filled (not in sync) on each target node. */
  private readonly recovering = new Map<NodeId, number>();
  private recoveringTotal = 0;

  constructor(state: RoutingState) {
    for (const shard of state.shards) {
      if (shard.primary !== null) (bump(this.copies, shard.primary, 1), bump(this.primaries, shard.primary, 1));
      for (const r of shard.replicas) {
        bump(this.copies, r, 1);
        // A stale copy on a failed or leaving node is not being filled: it takes no recovery slot.
        const node = nodeById(state, r);
        if (!shard.inSync.includes(r) && node !== undefined && isStaying(node.status)) this.addRecovery(r);
      }
    }
  }

  copiesOn(id: NodeId): number {
    return this.copies.get(id) ?? 0;
  }

  primariesOn(id: NodeId): number {
    return this.primaries.get(id) ?? 0;
  }

  hasRoom(node: NodeRecord): boolean {
    return this.copiesOn(node.id) < node.capacity;
  }

  /** Replicas being filled on `id`, and in the whole cluster. */
  recoveringOn(id: NodeId): number {
    return this.recovering.get(id) ?? 0;
  }

  get recoveringInCluster(): number {
    return this.recoveringTotal;
  }

  /** Whether one more recovery onto `id` stays within both limits. */
  mayRecoverOnto(id: NodeId, limits: RecoverySettings): boolean {
    return (this.recovering.get(id) ?? 0) < limits.maxConcurrentPerNode && this.recoveringTotal < limits.maxConcurrentPerCluster;
  }

  /** A copy planned onto `id`: in sync from the start (first assignment) or to be filled (recovery). */
  addCopy(id: NodeId, role: { primary: boolean; recovering: boolean }): void {
    bump(this.copies, id, 1);
    if (role.primary) bump(this.primaries, id, 1);
    if (role.recovering) this.addRecovery(id);
  }

  movePrimary(from: NodeId | null, to: NodeId): void {
    if (from !== null) bump(this.primaries, from, -1);
    bump(this.primaries, to, 1);
  }

  private addRecovery(id: NodeId): void {
    bump(this.recovering, id, 1);
    this.recoveringTotal++;
  }
}

/** Whether any shard is still filling a replica on a node that serves: balancing waits for calm. */
export function anyRecovering(state: RoutingState): boolean {
  return state.shards.some((s) =>
    s.replicas.some((r) => {
      const node = nodeById(state, r);
      return !s.inSync.includes(r) && node !== undefined && canServe(node.status);
    }),
  );
}
