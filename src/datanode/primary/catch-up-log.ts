/**
 * The primary's recent history of one shard, kept in memory from the moment
 * it became primary: the writes a replica that was briefly away (a restart
 * during a rolling upgrade) missed, so it catches up from its own data
 * instead of being wiped and copied whole. Bounded in ops and bytes: when
 * full, the oldest go, and a replica that is further behind gets a full copy.
 */
import type { ReplicatedOp } from '../contract.js';

/** The most ops and bytes (keys and base64 values) one shard's log keeps. */
export const CATCH_UP_LOG_OPS = 32_000;
export const CATCH_UP_LOG_BYTES = 16 * 1024 * 1024;
/** Ops and bytes per batch when the log is replayed to a replica (well under a replication batch's bounds). */
const REPLAY_BATCH_OPS = 1_000;
const REPLAY_BATCH_BYTES = 4 * 1024 * 1024;

const sizeOf = (op: ReplicatedOp): number => op.key.length + (op.value?.length ?? 0);

export class CatchUpLog {
  private ops: ReplicatedOp[] = [];
  private bytes = 0;

  /** `baseSeq`: the primary's last seq when it took over; the log holds what follows it. */
  constructor(
    private baseSeq: number,
    private readonly maxOps = CATCH_UP_LOG_OPS,
    private readonly maxBytes = CATCH_UP_LOG_BYTES,
  ) {}

  /** The seq the primary's history had when this log began (the history after it is in the log, or trimmed). */
  get startSeq(): number {
    return this.baseSeq;
  }

  /** Stored ops, in seq order, continuing the log (a gap would be a bug: the log then starts over after it). */
  append(ops: readonly ReplicatedOp[]): void {
    for (const op of ops) {
      if (op.seq !== this.baseSeq + this.ops.length + 1) {
        this.ops = [];
        this.bytes = 0;
        this.baseSeq = op.seq - 1;
      }
      this.ops.push(op);
      this.bytes += sizeOf(op);
    }
    let drop = 0;
    while (drop < this.ops.length && (this.ops.length - drop > this.maxOps || this.bytes > this.maxBytes)) this.bytes -= sizeOf(this.ops[drop++]!);
    if (drop > 0) {
      this.ops = this.ops.slice(drop);
      this.baseSeq += drop;
    }
  }

  /**
   * The ops after `fromSeq` up to `lastSeq` (the primary's last stored seq),
   * in replay batches; undefined when the log does not reach back that far or
   * does not reach `lastSeq`.
   */
  since(fromSeq: number, lastSeq: number): ReplicatedOp[][] | undefined {
    const end = this.baseSeq + this.ops.length;
    if (fromSeq < this.baseSeq || fromSeq > lastSeq || end !== lastSeq) return undefined;
    const batches: ReplicatedOp[][] = [];
    let batch: ReplicatedOp[] = [];
    let bytes = 0;
    for (const op of this.ops.slice(fromSeq - this.baseSeq)) {
      if (batch.length > 0 && (batch.length >= REPLAY_BATCH_OPS || bytes + sizeOf(op) > REPLAY_BATCH_BYTES)) {
        batches.push(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(op);
      bytes += sizeOf(op);
    }
    if (batch.length > 0) batches.push(batch);
    return batches;
  }
}
