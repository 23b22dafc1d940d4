/**
 * A primary's replication of one batch: to every in-sync replica in
 * parallel (waited for) and to every recovering replica's live stream (not
 * waited for). An in-sync replica that fails is taken out of the in-sync set
 * *before* the batch is acknowledged without it; if that cannot be
 * committed, the shard is fenced, since a replica that may lack the batch
 * could still be promoted.
 */
import { sleepOn } from '../../common/clock.js';
import { ClusterErrorCode, isClusterError } from '../../errors/index.js';
import type { ReplicatedOp, ReplicationBatch } from '../contract.js';
import { describe, outcomeUnknown, unavailable } from '../errors.js';
import { addressOf, callWithin, replicaAckTimeoutMs, saveMeta, type NodeContext } from '../node-context.js';
import type { ShardCopy } from '../shard-copy.js';
import { LiveStream } from './live-stream.js';

/** Rounds of "a replica knows a newer epoch: renew and resend" per batch, and of setInSync retries. */
const MAX_EPOCH_ROUNDS = 4;
/** A shard fenced because a lagging replica could not be taken out of the in-sync set keeps trying, this often. */
const UNFENCE_RETRY_MS = 500;
/** …for at most this long (then only a new epoch from the table lifts the fence). */
const UNFENCE_RETRY_LIMIT_MS = 120_000;

type Outcome = { node: string; ok: true } | { node: string; ok: false; stale: boolean; reason: string };

export class FanOut {
  private readonly live = new Map<string, LiveStream>();
  private unfencing = false;

  constructor(
    private readonly ctx: NodeContext,
    private readonly copy: ShardCopy,
  ) {}

  /** Resolves once every in-sync replica of the current epoch has stored the ops; throws a ClusterError otherwise. */
  async replicate(ops: readonly ReplicatedOp[]): Promise<void> {
    const firstSeq = ops[0]!.seq;
    const lastSeq = ops.at(-1)!.seq;
    for (const stream of this.live.values()) stream.push(this.batch(firstSeq, ops));
    const acked = new Set<string>();
    for (let round = 0; round < MAX_EPOCH_ROUNDS; round++) {
      this.checkPrimary();
      const targets = this.copy.assignment!.inSync.filter((n) => n !== this.ctx.id && !acked.has(n));
      if (targets.length === 0) return;
      const batch = this.batch(firstSeq, ops);
      const outcomes = await Promise.all(targets.map((n) => this.send(n, batch, lastSeq)));
      let stale = false;
      for (const o of outcomes) {
        if (o.ok) acked.add(o.node);
        else if (o.stale) stale = true;
        else await this.takeOutOfSync(o.node, `did not acknowledge seq ${lastSeq}: ${o.reason}`);
      }
      if (stale) await this.ctx.lease.refresh();
    }
    throw this.fence(`replicas kept refusing seq ${firstSeq}..${lastSeq} for a stale epoch`);
  }

  /** Adds a recovering replica to the stream from `fromSeq` on (between batches, so that seq is exact). */
  addLive(node: string, fromSeq: number): LiveStream {
    this.live.get(node)?.break('replaced by a new recovery');
    const stream = new LiveStream(this.ctx, this.copy.id, node, fromSeq);
    this.live.set(node, stream);
    return stream;
  }

  /** Takes a stream out (the replica is in sync now, or its recovery ended). */
  removeLive(stream: LiveStream): void {
    if (this.live.get(stream.node) === stream) this.live.delete(stream.node);
  }

  close(reason: string): void {
    for (const s of this.live.values()) s.break(reason);
    this.live.clear();
  }

  /**
   * Asks the cluster to change `node`'s standing (in or out of the in-sync
   * set) at the copy's current epoch, renewing and retrying when the shard
   * moved on; on success the copy continues at the committed epoch.
   */
  async setInSync(node: string, inSync: boolean, reason: string, copiedBytes?: number): Promise<number> {
    for (let round = 0; round < MAX_EPOCH_ROUNDS; round++) {
      this.checkPrimary();
      if (this.copy.isInSync(node) === inSync) return this.copy.epoch;
      try {
        const request = { shard: this.copy.id, node, inSync, expectedEpoch: this.copy.epoch, reason, ...(copiedBytes === undefined ? {} : { copiedBytes }) };
        const { epoch } = await callWithin(this.ctx, this.ctx.settings.coordinatorCallTimeoutMs, (signal) => this.ctx.coordinators.setInSync(request, signal));
        this.copy.applyInSyncChange(epoch, node, inSync);
        void saveMeta(this.ctx, this.copy).catch(() => undefined);
        this.ctx.logger.info(inSync ? 'replica joined the in-sync set' : 'replica taken out of the in-sync set', { shard: this.copy.id, node, epoch, reason });
        this.ctx.changed();
        return epoch;
      } catch (e) {
        if (!isClusterError(e, ClusterErrorCode.StaleEpoch)) throw e;
        await this.ctx.lease.refresh();
      }
    }
    throw unavailable(this.copy.id, 'replication failed', `shard ${this.copy.id}: setInSync for ${node} kept meeting a newer epoch`);
  }

  private async takeOutOfSync(node: string, reason: string): Promise<void> {
    try {
      await this.setInSync(node, false, reason);
    } catch (e) {
      // The change may have committed with its answer lost, and a renewal brought the new record meanwhile:
      // a node out of the in-sync set cannot be promoted, so the batch need not wait for it.
      if (!this.copy.isInSync(node)) return;
      const err = this.fence(`could not take ${node} out of the in-sync set (${describe(e)}) after it ${reason}`);
      this.keepTryingToUnfence(node, false, reason);
      throw err;
    }
  }

  /**
   * A join this primary asked for and got no answer to may still commit, and
   * then the table counts the replica in sync: no write may be acknowledged
   * without it until the table says how the join ended. So the shard is
   * fenced, and the primary asks again at the same epoch, which either
   * commits the join or meets the newer epoch that tells.
   */
  holdUnsettledJoin(node: string, reason: string, e: unknown): void {
    if (!outcomeUnknown(e) || this.ctx.signal.aborted || !this.copy.isPrimary(this.ctx.id) || this.copy.isInSync(node)) return;
    this.fence(`the in-sync join of ${node} was not answered (${describe(e)})`);
    this.keepTryingToUnfence(node, true, reason);
  }

  /**
   * A fence lifts only when the table's epoch moves on, and nothing else
   * would move it while the lagging replica looks healthy: the primary keeps
   * asking for the change itself (bounded), until it commits, the epoch moves
   * on some other way, or this node stops being the primary.
   */
  private keepTryingToUnfence(node: string, inSync: boolean, reason: string): void {
    if (this.unfencing) return;
    this.unfencing = true;
    const { clock } = this.ctx;
    const until = clock.nowMs() + UNFENCE_RETRY_LIMIT_MS;
    const unsettled = (): boolean => this.copy.fence?.reason === 'replication failed' && this.copy.isInSync(node) !== inSync;
    void (async () => {
      try {
        while (unsettled() && clock.nowMs() < until) {
          await sleepOn(this.ctx.timers, UNFENCE_RETRY_MS, this.ctx.signal);
          if (this.ctx.signal.aborted || !unsettled()) break;
          try {
            await this.setInSync(node, inSync, `${reason} (retried while the shard is fenced)`);
          } catch (e) {
            this.ctx.logger.debug('fenced shard: the in-sync change failed again', { shard: this.copy.id, node, inSync, err: describe(e) });
          }
        }
      } catch {
        /* the node is stopping */
      } finally {
        this.unfencing = false;
      }
    })();
  }

  private batch(firstSeq: number, ops: readonly ReplicatedOp[]): ReplicationBatch {
    return { shard: this.copy.id, epoch: this.copy.epoch, primary: this.ctx.id, firstSeq, ops };
  }

  private async send(node: string, batch: ReplicationBatch, lastSeq: number): Promise<Outcome> {
    const address = addressOf(this.ctx, node);
    if (address === undefined) return { node, ok: false, stale: false, reason: 'no address known' };
    try {
      const ack = await callWithin(this.ctx, replicaAckTimeoutMs(this.ctx), (signal) => this.ctx.peers.replicate(address, batch, signal));
      if (ack.ackedSeq >= lastSeq) return { node, ok: true };
      return { node, ok: false, stale: false, reason: `acknowledged only seq ${ack.ackedSeq}` };
    } catch (e) {
      return { node, ok: false, stale: isClusterError(e, ClusterErrorCode.StaleEpoch), reason: describe(e) };
    }
  }

  private checkPrimary(): void {
    if (this.ctx.signal.aborted) throw unavailable(this.copy.id, 'stopping', `node ${this.ctx.id} is stopping`);
    if (!this.copy.isPrimary(this.ctx.id) || this.ctx.copies.get(this.copy.id) !== this.copy) {
      // A demoted primary serves nothing of the shard anyway, and recovers from the new one.
      throw unavailable(this.copy.id, 'primary changed', `node ${this.ctx.id} is no longer the primary of shard ${this.copy.id} (epoch ${this.copy.epoch}): the write may or may not take effect`);
    }
  }

  /** Serves nothing of the shard until a grant shows a newer epoch; returns the error to fail the batch with. */
  private fence(why: string) {
    if (this.copy.fence === null) {
      this.copy.fence = { reason: 'replication failed', epoch: this.copy.epoch };
      this.ctx.logger.error('shard fenced: the in-sync set may not hold every write', { shard: this.copy.id, epoch: this.copy.epoch, reason: why });
      this.ctx.changed();
    }
    return unavailable(this.copy.id, 'replication failed', `shard ${this.copy.id} on node ${this.ctx.id}: replication failed, the write may or may not take effect (${why})`);
  }
}
