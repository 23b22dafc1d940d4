/**
 * The replica's side of the stream from an in-sync standing: a batch is
 * applied only if it continues this copy's own history exactly; a
 * retransmission of what it has is acknowledged again; anything else is
 * RESYNC. From a primary other than the one whose history the copy holds,
 * only an exact continuation is taken: two primaries may number different
 * writes with the same seq.
 */
import type { ReplicatedOp, ReplicationAck, ReplicationBatch } from '../contract.js';
import { resync } from '../errors.js';
import type { NodeContext } from '../node-context.js';
import type { ShardCopy } from '../shard-copy.js';
import type { CopyState } from '../store/shard-meta.js';
import type { DataOp } from '../store/shard-store.js';

export function decodeOps(ops: readonly ReplicatedOp[]): DataOp[] {
  return ops.map((o) => ({ key: o.key, value: o.value === null ? null : new Uint8Array(Buffer.from(o.value, 'base64')) }));
}

/** Stores `ops` (seq ≤ `last`) and the copy's new metadata in one synced write; the caller holds the shard's lock. */
export async function storeOps(ctx: NodeContext, copy: ShardCopy, ops: readonly ReplicatedOp[], last: number, primary: string, state: CopyState): Promise<void> {
  const data = decodeOps(ops);
  const keyCount = await ctx.store.keyCountAfter(copy.id, data, copy.keyCount);
  await ctx.store.write(copy.id, data, { ...copy.meta(), lastSeq: last, keyCount, primary, state }, true);
  copy.lastSeq = last;
  copy.keyCount = keyCount;
  copy.followed = primary;
  copy.state = state;
}

/** Under the shard's lock. */
export async function applyInSync(ctx: NodeContext, copy: ShardCopy, batch: ReplicationBatch): Promise<ReplicationAck> {
  const last = batch.firstSeq + batch.ops.length - 1;
  const next = copy.lastSeq + 1;
  if (copy.followed !== batch.primary) {
    if (batch.firstSeq !== next) {
      throw resync(copy.id, ctx.id, `it holds seq ${copy.lastSeq} of ${copy.followed ?? 'no'} primary's history; ${batch.primary} sent seq ${batch.firstSeq}..${last}`);
    }
  } else if (batch.firstSeq > next) {
    throw resync(copy.id, ctx.id, `gap: it holds seq ${copy.lastSeq}, the batch starts at ${batch.firstSeq}`);
  }
  if (last <= copy.lastSeq) return { ackedSeq: copy.lastSeq };
  await storeOps(ctx, copy, batch.ops.filter((o) => o.seq > copy.lastSeq), last, batch.primary, 'in-sync');
  return { ackedSeq: last };
}
