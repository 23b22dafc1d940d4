/**
 * What a node does with each grant: per shard, take the table's record and
 * bring the local machinery in line with it — a write pipeline while
 * primary, a recovery while an out-of-sync replica, nothing while an in-sync
 * one — and drop the copies the table no longer lists. The table is trusted
 * over anything the node remembers, with one exception: a table older than
 * the copy (one restored from a snapshot taken before the shard last moved)
 * never makes the node delete it, empty it or take an older record over it;
 * the copy is kept, unserved, until the table catches up (the restored
 * leader takes the newer placement from what the nodes report holding).
 */
import type { LeaseGrant } from './contract.js';
import { describe } from './errors.js';
import type { NodeContext } from './node-context.js';
import { saveMeta } from './node-context.js';
import type { RecoverySessions } from './primary/recovery-sessions.js';
import { WritePipeline } from './primary/write-pipeline.js';
import { ReplicaRecovery } from './replica/recovery.js';
import { ShardCopy } from './shard-copy.js';

export function reconcile(ctx: NodeContext, sessions: RecoverySessions, grant: LeaseGrant): void {
  const listed = new Set<number>();
  for (const a of grant.shards) {
    listed.add(a.id);
    let copy = ctx.copies.get(a.id);
    if (copy !== undefined && copy.assignment === null && a.epoch < copy.epoch) {
      // Loaded from disk at a newer epoch than the table gives: the table is the older of the two.
      keepNewer(ctx, sessions, copy, a.epoch);
      continue;
    }
    if (copy === undefined) {
      copy = new ShardCopy(a.id, undefined);
      copy.state = a.inSync.includes(ctx.id) ? 'in-sync' : 'recovering';
      ctx.copies.set(a.id, copy);
    }
    const before = { role: copy.role(ctx.id), epoch: copy.epoch, known: copy.assignment !== null };
    if (!copy.take(a)) continue;
    // The fence keeps a replica that may lack a batch from being promoted under writes it never saw; with this
    // primary the only copy in sync, no other can be promoted, and its own store is the shard's truth.
    if (copy.fence?.reason === 'replication failed' && a.primary === ctx.id && a.inSync.length === 1 && a.inSync[0] === ctx.id) {
      copy.fence = null;
      ctx.logger.info('fence lifted: no other copy is in sync', { shard: copy.id, epoch: copy.epoch });
    }
    settle(ctx, sessions, copy);
    const role = copy.role(ctx.id);
    if (role !== before.role || copy.epoch !== before.epoch || !before.known) {
      ctx.logger.info('shard copy changed', { shard: copy.id, epoch: copy.epoch, role, was: before.known ? before.role : null, primary: a.primary });
      void saveMeta(ctx, copy).catch((e) => ctx.logger.warn('storing shard metadata failed', { shard: copy.id, err: e }));
      ctx.changed();
    }
  }
  for (const copy of [...ctx.copies.values()]) {
    if (listed.has(copy.id)) continue;
    const tableEpoch = grant.shardEpochs?.[copy.id];
    if (tableEpoch !== undefined && tableEpoch <= copy.epoch) keepNewer(ctx, sessions, copy, tableEpoch);
    else drop(ctx, sessions, copy);
  }
}

/**
 * The table's record of the shard is not newer than this copy, yet does not
 * list it as the copy knows itself: the table is older than the copy. The
 * copy is kept on disk and serves nothing until a grant shows a newer epoch.
 */
function keepNewer(ctx: NodeContext, sessions: RecoverySessions, copy: ShardCopy, tableEpoch: number): void {
  if (copy.fence?.reason === 'newer than the table') return;
  copy.pipeline?.close('the table is older than this copy');
  copy.pipeline = null;
  sessions.endShard(copy.id, 'the table is older than this copy');
  copy.recovery?.close('the table is older than this copy');
  copy.recovery = null;
  copy.fence = { reason: 'newer than the table', epoch: copy.epoch };
  ctx.logger.warn('the table is older than this copy (restored from an old snapshot?): keeping the copy, serving nothing until the table catches up', {
    shard: copy.id,
    epoch: copy.epoch,
    tableEpoch,
    lastSeq: copy.lastSeq,
  });
  ctx.changed();
}

function settle(ctx: NodeContext, sessions: RecoverySessions, copy: ShardCopy): void {
  const a = copy.assignment!;
  const me = ctx.id;
  if (a.primary === me) {
    if (copy.recovery !== null) {
      // The table promotes in-sync copies only; if it says so, it knows better than this node.
      ctx.logger.warn('the table names this node primary of a shard it is recovering; trusting the table', { shard: copy.id, epoch: a.epoch });
      copy.recovery.close('promoted to primary');
      copy.recovery = null;
    }
    if (copy.followed !== null && copy.followed !== me) ctx.logger.info('promoted to primary', { shard: copy.id, epoch: a.epoch, previous: copy.followed, seq: copy.lastSeq });
    copy.state = 'in-sync';
    copy.pipeline ??= new WritePipeline(ctx, copy);
    return;
  }
  if (copy.pipeline !== null) {
    copy.pipeline.close('no longer primary');
    copy.pipeline = null;
    sessions.endShard(copy.id, 'no longer primary');
  }
  if (a.inSync.includes(me)) {
    // A recovery that is finishing was committed as in sync already; let it hand over to the stream itself.
    if (copy.recovery !== null && copy.recovery.phase !== 'finishing') {
      copy.recovery.close('the table lists the copy in sync');
      copy.recovery = null;
    }
    if (copy.recovery === null) copy.state = 'in-sync';
    return;
  }
  // Stored with the new epoch: a copy out of the in-sync set must never report itself in sync after a restart.
  // A whole copy stays whole (it may catch up from its own data); a half-filled one stays half-filled.
  if (copy.state === 'in-sync') copy.state = 'behind';
  if (a.primary === null) return;
  const r = copy.recovery;
  if (r !== null && r.primary === a.primary && (r.phase !== 'given-up' || r.startedAtEpoch === a.epoch)) return;
  r?.close(r.primary === a.primary ? 'retrying at a newer epoch' : `the primary is now ${a.primary}`);
  copy.recovery = new ReplicaRecovery(ctx, copy, a.primary, a.epoch);
  copy.recovery.start();
}

function drop(ctx: NodeContext, sessions: RecoverySessions, copy: ShardCopy): void {
  ctx.copies.delete(copy.id);
  copy.pipeline?.close('copy no longer assigned');
  copy.pipeline = null;
  sessions.endShard(copy.id, 'copy no longer assigned');
  copy.recovery?.close('copy no longer assigned');
  copy.recovery = null;
  ctx.logger.info('shard copy no longer assigned to this node: deleting it', { shard: copy.id, epoch: copy.epoch, keys: copy.keyCount });
  ctx.changed();
  void ctx.locks
    .run(copy.id, () => ctx.store.dropShard(copy.id))
    .then((keys) => ctx.logger.info('shard copy deleted', { shard: copy.id, keys }))
    .catch((e) => ctx.logger.error('deleting a shard copy failed', { shard: copy.id, err: e, reason: describe(e) }));
}
