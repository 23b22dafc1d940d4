/**
 * A replica's recovery of one shard from its primary: wipe the copy, begin
 * (the primary adds this node to its live stream from snapshotSeq + 1 on),
 * copy the snapshot page by page while storing the live stream as it comes,
 * then finish (the primary has this node committed as in sync). A key the
 * live stream wrote or deleted is newer than the snapshot's, so pages skip
 * it. Retried with backoff a bounded number of times; cancelled when the
 * table names another primary or drops the copy.
 */
import { sleepOn } from '../../common/clock.js';
import { ClusterErrorCode, isClusterError } from '../../errors/index.js';
import type { RecoveryProgress, ReplicationAck, ReplicationBatch } from '../contract.js';
import { describe, resync } from '../errors.js';
import { addressOf, callWithin, type NodeContext } from '../node-context.js';
import { retryDelayMs } from '../options.js';
import type { ShardCopy } from '../shard-copy.js';
import { storeOps } from './apply-batch.js';

/** One call to the primary, bounded by the recovery call timeout and the attempt. */
type Bounded = <T>(call: (signal: AbortSignal) => Promise<T>) => Promise<T>;

/** Thrown inside an attempt that the live stream (or a cancel) has already doomed. */
class AttemptOver extends Error {}

export class ReplicaRecovery {
  phase: 'copying' | 'finishing' | 'given-up' = 'copying';
  readonly progress: { shard: number; copiedKeys: number; totalKeys: number | null };
  private cancelled = false;
  private attempt = new AbortController();
  // Per attempt, reset by the wipe (under the shard's lock, like live()).
  private snapshotSeq: number | null = null;
  private liveFrom: number | null = null;
  private liveLast: number | null = null;
  private touched = new Set<string>();
  private failed: string | null = null;
  /** This attempt keeps the copy's data and takes only what it lacks (no pages, nothing to skip). */
  private catchingUp = false;
  /** The primary would not (or could not) vouch for a catch-up: the copy is wiped and filled instead. */
  private catchUpRefused = false;

  constructor(
    private readonly ctx: NodeContext,
    private readonly copy: ShardCopy,
    readonly primary: string,
    /** A recovery that gave up starts again only at a newer epoch than this. */
    readonly startedAtEpoch: number,
  ) {
    this.progress = { shard: copy.id, copiedKeys: 0, totalKeys: null };
  }

  start(): void {
    void this.run();
  }

  close(reason: string): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.attempt.abort(new AttemptOver(reason));
    this.ctx.logger.info('recovery cancelled', { shard: this.copy.id, primary: this.primary, reason });
  }

  snapshotProgress(): RecoveryProgress {
    return { ...this.progress };
  }

  /** A live batch from the primary (under the shard's lock). */
  async live(batch: ReplicationBatch): Promise<ReplicationAck> {
    const last = batch.firstSeq + batch.ops.length - 1;
    if (this.failed !== null) throw resync(this.copy.id, this.ctx.id, `its recovery is starting over (${this.failed})`);
    let ops = batch.ops;
    if (this.liveLast === null) {
      const expected = this.snapshotSeq === null ? batch.firstSeq : this.snapshotSeq + 1;
      if (batch.firstSeq !== expected) throw this.fail(`the live stream began at seq ${batch.firstSeq}, the snapshot holds seq ${this.snapshotSeq}`);
      this.liveFrom = batch.firstSeq;
    } else {
      if (batch.firstSeq > this.liveLast + 1) throw this.fail(`gap in the live stream: seq ${this.liveLast} then ${batch.firstSeq}`);
      if (last <= this.liveLast) return { ackedSeq: this.liveLast };
      const after = this.liveLast;
      ops = ops.filter((o) => o.seq > after);
    }
    if (!this.catchingUp && this.touched.size + ops.length > this.ctx.settings.maxRecoveryTouchedKeys) throw this.fail('too many live writes during the copy');
    // A catch-up only appends to a whole history, so the copy stays whole (a crash keeps it a catch-up base), and not in sync until finalize.
    await storeOps(this.ctx, this.copy, ops, last, this.primary, this.catchingUp ? 'behind' : 'recovering');
    if (!this.catchingUp) for (const o of ops) this.touched.add(o.key);
    this.liveLast = last;
    return { ackedSeq: last };
  }

  private fail(why: string) {
    this.failed ??= why;
    this.attempt.abort(new AttemptOver(why));
    return resync(this.copy.id, this.ctx.id, why);
  }

  private current(): boolean {
    return !this.cancelled && !this.ctx.signal.aborted && this.ctx.copies.get(this.copy.id) === this.copy && this.copy.recovery === this;
  }

  private async run(): Promise<void> {
    const { ctx, copy } = this;
    const max = ctx.settings.maxRecoveryAttempts;
    for (let attempt = 1; attempt <= max && this.current(); attempt++) {
      try {
        await this.once();
        return;
      } catch (e) {
        if (!this.current()) return;
        // The primary may have committed this copy as in sync before its answer was lost.
        if (this.phase === 'finishing') {
          await ctx.lease.refresh();
          if (copy.isInSync(ctx.id)) {
            await this.finalize(copy.epoch).catch(() => undefined);
            return;
          }
        }
        ctx.logger.warn('recovery attempt failed', { shard: copy.id, primary: this.primary, attempt, reason: describe(e) });
        if (isClusterError(e, ClusterErrorCode.StaleEpoch)) await ctx.lease.refresh();
        await sleepOn(ctx.timers, retryDelayMs(ctx.settings, attempt, ctx.random), ctx.signal);
      }
    }
    if (!this.current()) return;
    this.phase = 'given-up';
    ctx.logger.error('recovery gave up; it starts again when the shard moves to a newer epoch', { shard: copy.id, primary: this.primary, attempts: max });
    ctx.changed();
  }

  private async once(): Promise<void> {
    const { ctx, copy } = this;
    this.attempt = new AbortController();
    this.phase = 'copying';
    const signal = this.attempt.signal;
    const withDeadline: Bounded = (call) => callWithin(ctx, ctx.settings.recoveryCallTimeoutMs, call, signal);
    // A copy that holds the whole history it claims (not one half filled) keeps it and takes only the rest.
    if (!this.catchUpRefused && copy.state !== 'recovering' && copy.lastSeq > 0) return this.catchUp(withDeadline);
    await ctx.locks.run(copy.id, async () => {
      if (!this.current()) throw new AttemptOver('cancelled');
      await ctx.store.dropShard(copy.id);
      copy.lastSeq = 0;
      copy.keyCount = 0;
      copy.state = 'recovering';
      copy.followed = this.primary;
      await ctx.store.write(copy.id, [], copy.meta(), true);
      this.resetAttempt(false);
    });
    ctx.changed();
    const address = addressOf(ctx, this.primary);
    if (address === undefined) throw new Error(`no address known for primary ${this.primary}`);
    const begin = await withDeadline((s) => ctx.peers.beginRecovery(address, { shard: copy.id, epoch: copy.epoch, replica: ctx.id }, s));
    await ctx.locks.run(copy.id, async () => {
      if (this.liveFrom !== null && this.liveFrom !== begin.snapshotSeq + 1) throw this.fail(`the live stream began at seq ${this.liveFrom}, the snapshot holds seq ${begin.snapshotSeq}`);
      this.snapshotSeq = begin.snapshotSeq;
    });
    this.progress.totalKeys = begin.totalKeys;
    ctx.logger.info('recovery copying', { shard: copy.id, primary: this.primary, snapshotSeq: begin.snapshotSeq, totalKeys: begin.totalKeys });
    // Every page but the last holds at least one entry, so this many pages always suffice.
    for (let pages = 0; pages <= begin.totalKeys + 1; pages++) {
      const page = await withDeadline((s) => ctx.peers.recoveryPage(address, { recoveryId: begin.recoveryId, limit: ctx.settings.recoveryPageLimit }, s));
      await ctx.locks.run(copy.id, async () => {
        if (signal.aborted) throw signal.reason;
        const fresh = page.entries.filter((e) => !this.touched.has(e.key));
        const ops = fresh.map((e) => ({ key: e.key, value: new Uint8Array(Buffer.from(e.value, 'base64')) }));
        await ctx.store.write(copy.id, ops, { ...copy.meta(), keyCount: copy.keyCount + ops.length }, false);
        copy.keyCount += ops.length;
      });
      this.progress.copiedKeys += page.entries.length;
      ctx.changed();
      if (page.done) return this.finish(address, begin.recoveryId, withDeadline);
    }
    throw new Error(`the primary sent more pages than its ${begin.totalKeys} keys need`);
  }

  /** A new attempt's bookkeeping (under the shard's lock, like live()): a catch-up has no keys to copy. */
  private resetAttempt(catchingUp: boolean): void {
    this.catchingUp = catchingUp;
    this.snapshotSeq = null;
    this.liveFrom = null;
    this.liveLast = null;
    this.touched = new Set();
    this.failed = null;
    this.progress.copiedKeys = 0;
    this.progress.totalKeys = catchingUp ? 0 : null;
  }

  /**
   * Keeps the copy's data (whole up to its lastSeq) and asks the primary for
   * the rest only: after a restart, a replica that missed a few writes
   * catches up in the time it takes to replay them. The live stream only
   * appends to the copy's history, so a failed attempt (or a crash) leaves
   * a copy to catch up from again; a primary that refuses the catch-up gets
   * the copy wiped and filled instead (the next attempt).
   */
  private async catchUp(withDeadline: Bounded): Promise<void> {
    const { ctx, copy } = this;
    const fromSeq = await ctx.locks.run(copy.id, async () => {
      if (!this.current()) throw new AttemptOver('cancelled');
      this.resetAttempt(true);
      return copy.lastSeq;
    });
    const address = addressOf(ctx, this.primary);
    if (address === undefined) throw new Error(`no address known for primary ${this.primary}`);
    let begin;
    try {
      begin = await withDeadline((s) => ctx.peers.beginRecovery(address, { shard: copy.id, epoch: copy.epoch, replica: ctx.id, fromSeq, followed: copy.followed }, s));
      if (begin.catchUp !== true || begin.snapshotSeq !== fromSeq) throw new Error(`${this.primary} answered a catch-up from seq ${fromSeq} with a full recovery`);
    } catch (e) {
      if (this.current()) {
        this.catchUpRefused = true;
        ctx.logger.info('no catch-up from the own data: the copy is filled whole', { shard: copy.id, primary: this.primary, reason: describe(e) });
      }
      throw e;
    }
    await ctx.locks.run(copy.id, async () => {
      if (this.liveFrom !== null && this.liveFrom !== fromSeq + 1) throw this.fail(`the catch-up stream began at seq ${this.liveFrom}, the copy holds seq ${fromSeq}`);
      this.snapshotSeq = fromSeq;
    });
    ctx.logger.info('catching up from the own data', { shard: copy.id, primary: this.primary, fromSeq });
    await this.finish(address, begin.recoveryId, withDeadline);
  }

  private async finish(address: string, recoveryId: string, withDeadline: Bounded): Promise<void> {
    const { ctx, copy } = this;
    const lastSeq = await ctx.locks.run(copy.id, async () => {
      if (this.attempt.signal.aborted) throw this.attempt.signal.reason;
      copy.lastSeq = this.liveLast ?? this.snapshotSeq!;
      await ctx.store.write(copy.id, [], copy.meta(), true);
      return copy.lastSeq;
    });
    this.phase = 'finishing';
    const { epoch } = await withDeadline((s) => ctx.peers.finishRecovery(address, { recoveryId, lastSeq }, s));
    await this.finalize(epoch);
  }

  /** The copy is in sync at `epoch`: from now on it follows the primary as any in-sync replica. */
  private async finalize(epoch: number): Promise<void> {
    const { ctx, copy } = this;
    await ctx.locks.run(copy.id, async () => {
      if (copy.recovery !== this) return;
      copy.applyInSyncChange(epoch, ctx.id, true);
      copy.lastSeq = Math.max(this.liveLast ?? 0, this.snapshotSeq ?? 0);
      copy.followed = this.primary;
      copy.state = 'in-sync';
      copy.recovery = null;
      await ctx.store.write(copy.id, [], copy.meta(), true);
    });
    ctx.logger.info('recovery done: copy in sync', { shard: copy.id, primary: this.primary, epoch, keys: copy.keyCount, seq: copy.lastSeq });
    ctx.changed();
  }
}
