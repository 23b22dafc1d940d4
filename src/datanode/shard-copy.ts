/** What a node knows about one shard it holds a copy of: the table's view, its own stored state, and its work in progress. */
import type { ShardAssignment, ShardRole } from './contract.js';
import type { WritePipeline } from './primary/write-pipeline.js';
import type { ReplicaRecovery } from './replica/recovery.js';
import type { CopyState, ShardMeta } from './store/shard-meta.js';

/** Why a primary refuses to serve a shard until a grant shows a newer epoch. */
export type FenceReason = 'handing over' | 'replication failed' | 'newer than the table';

export class ShardCopy {
  /** The routing table's record, as the newest grant (or this node's own setInSync) gave it. */
  assignment: ShardAssignment | null = null;
  epoch: number;
  lastSeq: number;
  keyCount: number;
  /** The primary whose history this copy holds. */
  followed: string | null;
  state: CopyState;
  fence: { readonly reason: FenceReason; readonly epoch: number } | null = null;
  /** While this node is the primary. */
  pipeline: WritePipeline | null = null;
  /** While this node copies the shard from its primary. */
  recovery: ReplicaRecovery | null = null;

  constructor(
    readonly id: number,
    meta: ShardMeta | undefined,
  ) {
    this.epoch = meta?.epoch ?? 0;
    this.lastSeq = meta?.lastSeq ?? 0;
    this.keyCount = meta?.keyCount ?? 0;
    this.followed = meta?.primary ?? null;
    this.state = meta?.state ?? 'in-sync';
  }

  isPrimary(node: string): boolean {
    return this.assignment?.primary === node;
  }

  isInSync(node: string): boolean {
    return this.assignment?.inSync.includes(node) ?? false;
  }

  role(node: string): ShardRole {
    if (this.fence !== null) return 'fenced';
    if (this.isPrimary(node)) return 'primary';
    if (this.isInSync(node) && this.recovery === null) return 'replica';
    return 'recovering';
  }

  meta(): ShardMeta {
    return { epoch: this.epoch, primary: this.followed, lastSeq: this.lastSeq, keyCount: this.keyCount, state: this.state };
  }

  /**
   * Takes the table's record at its epoch; an older one (a grant sent before
   * this node's own setInSync committed) is ignored. Returns whether it was taken.
   */
  take(a: ShardAssignment): boolean {
    if (a.epoch < this.epoch) return false;
    if (a.epoch > this.epoch) this.fence = null;
    this.assignment = a;
    this.epoch = a.epoch;
    return true;
  }

  /** A setInSync this node made was committed at `epoch`: the table is the old record with `node` in or out of the in-sync set. */
  applyInSyncChange(epoch: number, node: string, inSync: boolean): void {
    const a = this.assignment;
    if (a === null || epoch <= this.epoch) return;
    const rest = a.inSync.filter((n) => n !== node);
    this.take({ ...a, epoch, inSync: inSync ? [...rest, node].sort() : rest });
  }
}
