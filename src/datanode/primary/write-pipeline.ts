/**
 * A primary's one write pipeline per shard (group commit): writes queue up;
 * a loop takes as many as fit in a batch, numbers them, stores them in one
 * synced LevelDB write, replicates them (FanOut), and only then answers
 * them. Writes that arrive meanwhile wait for the next batch. Work that
 * needs an exact seq (a recovery's snapshot, its finish, a handoff) runs
 * between two batches.
 */
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';
import type { ReplicatedOp } from '../contract.js';
import { describe, noLease, notPrimary, stopping, unavailable } from '../errors.js';
import type { NodeContext } from '../node-context.js';
import type { ShardCopy } from '../shard-copy.js';
import type { DataOp } from '../store/shard-store.js';
import { CatchUpLog } from './catch-up-log.js';
import { FanOut } from './fan-out.js';

interface PendingWrite {
  readonly op: DataOp;
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export class WritePipeline {
  readonly fanOut: FanOut;
  /** What this primary stored since it took over, for replicas that come back after a short absence. */
  readonly catchUp: CatchUpLog;
  private queue: PendingWrite[] = [];
  private queuedBytes = 0;
  private readonly tasks: (() => Promise<void>)[] = [];
  /** Keys of the batch in flight: stored here, not yet acknowledged. */
  private readonly inFlight = new Map<string, number>();
  private batchDone: Promise<void> | null = null;
  private running: Promise<void> | null = null;
  private closed: ClusterError | null = null;
  /**
   * A batch was stored here but not acknowledged by every in-sync replica:
   * this copy may hold writes another in-sync copy lacks, so a handoff must
   * not leave it in sync. Never reset: conservative for the pipeline's life.
   */
  private storedUnacknowledged: boolean;

  constructor(
    private readonly ctx: NodeContext,
    private readonly copy: ShardCopy,
  ) {
    this.fanOut = new FanOut(ctx, copy);
    // A primary resuming its own history (after a restart) cannot know whether its last batch reached the replicas.
    this.storedUnacknowledged = copy.followed === ctx.id && copy.lastSeq > 0;
    this.catchUp = new CatchUpLog(copy.lastSeq);
  }

  write(op: DataOp): Promise<void> {
    if (this.closed !== null) return Promise.reject(this.closed);
    const bytes = op.key.length + (op.value?.length ?? 0);
    const s = this.ctx.settings;
    if (this.queue.length >= s.maxQueuedWrites || this.queuedBytes + bytes > s.maxQueuedBytes) {
      return Promise.reject(
        new ClusterError(
          { code: ClusterErrorCode.Overloaded, retryAfterMs: 100 },
          `shard ${this.copy.id} on node ${this.ctx.id}: ${this.queue.length} writes (${this.queuedBytes} bytes) already wait for replication`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ op, bytes, resolve, reject });
      this.queuedBytes += bytes;
      this.kick();
    });
  }

  /** Runs `fn` with no batch in flight, in order with the batches. */
  between<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed !== null) return Promise.reject(this.closed);
    return new Promise<T>((resolve, reject) => {
      this.tasks.push(() => fn().then(resolve, reject));
      this.kick();
    });
  }

  /** Every batch this pipeline stored reached every in-sync replica (read between batches, it is exact). */
  get caughtUp(): boolean {
    return !this.storedUnacknowledged;
  }

  /** The key has a write stored but not yet acknowledged. */
  hasInFlight(key: string): boolean {
    return this.inFlight.has(key);
  }

  /** Resolves when the batch in flight (if any) has finished, either way. */
  batchSettled(): Promise<void> {
    return this.batchDone ?? Promise.resolve();
  }

  /** Fails every write still queued (not yet stored) with `err`. */
  rejectQueued(err: unknown): void {
    const queued = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    for (const w of queued) w.reject(err);
  }

  /** Refuses all further work with `err` (default: NOT_PRIMARY); the batch in flight finishes. */
  close(reason: string, err?: ClusterError): void {
    if (this.closed !== null) return;
    this.closed = err ?? notPrimary(this.copy.id, this.ctx.id, this.copy.assignment?.primary ?? null, this.copy.epoch);
    this.rejectQueued(this.closed);
    this.fanOut.close(reason);
  }

  /** Resolves once nothing runs (the batch in flight and every task done). */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  private kick(): void {
    if (this.running !== null) return;
    this.running = this.drive().finally(() => {
      this.running = null;
      if (this.tasks.length > 0 || this.queue.length > 0) this.kick();
    });
  }

  private async drive(): Promise<void> {
    // Bounded by the queue: each round takes at least one task or write.
    for (;;) {
      const task = this.tasks.shift();
      if (task !== undefined) {
        await task();
        continue;
      }
      if (this.queue.length === 0) return;
      await this.commit(this.take());
    }
  }

  private take(): PendingWrite[] {
    const { maxBatchOps, maxBatchBytes } = this.ctx.settings;
    let n = 0;
    let bytes = 0;
    while (n < this.queue.length && n < maxBatchOps) {
      const next = this.queue[n]!.bytes;
      if (n > 0 && bytes + next > maxBatchBytes) break;
      bytes += next;
      n++;
    }
    const batch = this.queue.splice(0, n);
    this.queuedBytes -= bytes;
    return batch;
  }

  /** Why the shard takes no batch now, if it does not. */
  private refusal(): ClusterError | undefined {
    const { ctx, copy } = this;
    if (this.closed !== null) return this.closed;
    if (ctx.signal.aborted) return stopping(ctx.id);
    if (!ctx.lease.valid()) return noLease(ctx.id);
    if (!copy.isPrimary(ctx.id)) return notPrimary(copy.id, ctx.id, copy.assignment?.primary ?? null, copy.epoch);
    if (copy.fence !== null) return unavailable(copy.id, copy.fence.reason, `shard ${copy.id} on node ${ctx.id} is ${copy.fence.reason} (epoch ${copy.fence.epoch})`);
    return undefined;
  }

  private async commit(writes: PendingWrite[]): Promise<void> {
    const refused = this.refusal();
    if (refused !== undefined) {
      for (const w of writes) w.reject(refused);
      return;
    }
    const { ctx, copy } = this;
    const first = copy.lastSeq + 1;
    const last = first + writes.length - 1;
    const ops = writes.map((w) => w.op);
    for (const op of ops) this.inFlight.set(op.key, (this.inFlight.get(op.key) ?? 0) + 1);
    let settle!: () => void;
    this.batchDone = new Promise((resolve) => (settle = resolve));
    let stored = false;
    try {
      await this.store(ops, last);
      stored = true;
      const replicated: ReplicatedOp[] = ops.map((op, i) => ({ seq: first + i, key: op.key, value: op.value === null ? null : Buffer.from(op.value).toString('base64') }));
      // Stored is part of this primary's history, acknowledged or not: a replica catching up must get it too.
      this.catchUp.append(replicated);
      await this.fanOut.replicate(replicated);
      for (const w of writes) w.resolve();
    } catch (e) {
      if (stored) this.storedUnacknowledged = true;
      for (const w of writes) w.reject(e);
    } finally {
      for (const op of ops) {
        const left = this.inFlight.get(op.key)! - 1;
        if (left === 0) this.inFlight.delete(op.key);
        else this.inFlight.set(op.key, left);
      }
      this.batchDone = null;
      settle();
      ctx.changed();
    }
  }

  private async store(ops: readonly DataOp[], last: number): Promise<void> {
    const { ctx, copy } = this;
    try {
      await ctx.locks.run(copy.id, async () => {
        const keyCount = await ctx.store.keyCountAfter(copy.id, ops, copy.keyCount);
        await ctx.store.write(copy.id, ops, { ...copy.meta(), lastSeq: last, keyCount, primary: ctx.id, state: 'in-sync' }, true);
        copy.lastSeq = last;
        copy.keyCount = keyCount;
        copy.followed = ctx.id;
        copy.state = 'in-sync';
      });
    } catch (e) {
      // Whether the write reached the disk is unknown: serve nothing rather than guess.
      copy.fence ??= { reason: 'replication failed', epoch: copy.epoch };
      ctx.logger.error('shard fenced: storing a write batch failed', { shard: copy.id, err: e });
      throw unavailable(copy.id, 'storage failed', `shard ${copy.id} on node ${ctx.id}: storing the write failed (${describe(e)})`);
    }
  }
}
