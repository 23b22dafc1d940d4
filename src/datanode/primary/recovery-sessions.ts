/**
 * The primary's side of recoveries: one session per recovering replica,
 * holding a LevelDB snapshot of the shard taken between two batches (so
 * `snapshotSeq` is exact) and the replica's live stream from the next seq.
 * Sessions end when finished, replaced, idle too long or when the copy
 * stops being primary; there are at most maxRecoverySessions at a time.
 */
import { randomBytes } from 'node:crypto';
import { sleepOn, type Timer } from '../../common/clock.js';
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';
import type { RecoveryBegin, RecoveryBeginRequest, RecoveryFinish, RecoveryFinishRequest, RecoveryPage, RecoveryPageRequest } from '../contract.js';
import { notPrimary, resync } from '../errors.js';
import { replicaAckTimeoutMs, type NodeContext } from '../node-context.js';
import type { ShardCopy } from '../shard-copy.js';
import type { ReadSnapshot, ShardCursor } from '../store/shard-store.js';
import type { LiveStream } from './live-stream.js';
import type { WritePipeline } from './write-pipeline.js';

interface Session {
  readonly id: string;
  readonly copy: ShardCopy;
  readonly pipeline: WritePipeline;
  readonly replica: string;
  /** Null for a catch-up: the replica keeps its data and the live stream brings what it lacks. */
  readonly snapshot: ReadSnapshot | null;
  readonly cursor: ShardCursor | null;
  readonly stream: LiveStream;
  lastUsedMs: number;
  /** Pages of one session are read one at a time. */
  reading: Promise<unknown>;
  /** Bytes of keys and values sent in pages (or replayed from the catch-up log) so far. */
  bytesSent: number;
  /** For a catch-up, the seq the replica already held. */
  readonly caughtUpFrom: number | null;
}

const SWEEP_EVERY_MS = 5_000;

export class RecoverySessions {
  private readonly sessions = new Map<string, Session>();
  /** Snapshots and iterators of ended sessions still being released. */
  private readonly releasing = new Set<Promise<void>>();
  private readonly sweeper: Timer;

  constructor(private readonly ctx: NodeContext) {
    this.sweeper = ctx.timers.every(SWEEP_EVERY_MS, () => this.sweep());
  }

  /** The caller has checked that this node is the copy's primary at `req.epoch`. */
  begin(copy: ShardCopy, pipeline: WritePipeline, req: RecoveryBeginRequest): Promise<RecoveryBegin> {
    const { ctx } = this;
    if (!copy.assignment?.replicas.includes(req.replica)) {
      return Promise.reject(resync(copy.id, req.replica, `the table at epoch ${copy.epoch} lists no copy of shard ${copy.id} on ${req.replica}`));
    }
    return pipeline.between(async () => {
      if (!copy.isPrimary(ctx.id)) throw notPrimary(copy.id, ctx.id, copy.assignment?.primary ?? null, copy.epoch);
      for (const s of this.sessions.values()) if (s.copy.id === copy.id && s.replica === req.replica) this.end(s, 'replaced by a new recovery');
      if (this.sessions.size >= ctx.settings.maxRecoverySessions) {
        throw new ClusterError({ code: ClusterErrorCode.Overloaded, retryAfterMs: 1_000 }, `node ${ctx.id} already serves ${this.sessions.size} recoveries`);
      }
      if (req.fromSeq !== undefined) return this.beginCatchUp(copy, pipeline, req, req.fromSeq);
      const snapshot = ctx.store.snapshot();
      const session: Session = {
        id: randomBytes(12).toString('hex'),
        copy,
        pipeline,
        replica: req.replica,
        snapshot,
        cursor: ctx.store.entries(copy.id, snapshot),
        stream: pipeline.fanOut.addLive(req.replica, copy.lastSeq + 1),
        lastUsedMs: ctx.clock.nowMs(),
        reading: Promise.resolve(),
        bytesSent: 0,
        caughtUpFrom: null,
      };
      this.sessions.set(session.id, session);
      ctx.logger.info('recovery begun', { shard: copy.id, node: req.replica, snapshotSeq: copy.lastSeq, totalKeys: copy.keyCount });
      return { recoveryId: session.id, snapshotSeq: copy.lastSeq, totalKeys: copy.keyCount };
    });
  }

  /**
   * Between two batches: the replica's data continues this primary's history
   * at `fromSeq` — it followed this primary, or it stopped exactly where this
   * primary took over (a handoff) — the same continuation rule the in-sync
   * stream applies (replica/apply-batch.ts). The catch-up log then replays
   * what came after into the replica's live stream. Otherwise RESYNC: the
   * replica wipes its copy and starts a full recovery.
   */
  private beginCatchUp(copy: ShardCopy, pipeline: WritePipeline, req: RecoveryBeginRequest, fromSeq: number): RecoveryBegin {
    const { ctx } = this;
    const log = pipeline.catchUp;
    const continues = req.followed === ctx.id || fromSeq === log.startSeq;
    const batches = continues ? log.since(fromSeq, copy.lastSeq) : undefined;
    if (batches === undefined) {
      const why = continues
        ? `its catch-up log holds seq ${log.startSeq + 1}..${copy.lastSeq}, the replica needs ${fromSeq + 1} on`
        : `the replica holds seq ${fromSeq} of ${req.followed ?? 'no'} primary's history, which this primary (from seq ${log.startSeq}) does not continue`;
      throw resync(copy.id, req.replica, `no catch-up from ${ctx.id}: ${why}`);
    }
    const stream = pipeline.fanOut.addLive(req.replica, fromSeq + 1);
    let bytes = 0;
    for (const ops of batches) {
      stream.push({ shard: copy.id, epoch: copy.epoch, primary: ctx.id, firstSeq: ops[0]!.seq, ops });
      for (const o of ops) bytes += o.key.length + (o.value?.length ?? 0);
    }
    const session: Session = {
      id: randomBytes(12).toString('hex'),
      copy,
      pipeline,
      replica: req.replica,
      snapshot: null,
      cursor: null,
      stream,
      lastUsedMs: ctx.clock.nowMs(),
      reading: Promise.resolve(),
      bytesSent: bytes,
      caughtUpFrom: fromSeq,
    };
    this.sessions.set(session.id, session);
    ctx.logger.info('catch-up begun', { shard: copy.id, node: req.replica, fromSeq, toSeq: copy.lastSeq });
    return { recoveryId: session.id, snapshotSeq: fromSeq, totalKeys: 0, catchUp: true };
  }

  page(req: RecoveryPageRequest): Promise<RecoveryPage> {
    const s = this.find(req.recoveryId);
    const cursor = s.cursor;
    if (cursor === null) return Promise.resolve({ entries: [], done: true });
    const limit = Math.min(req.limit, this.ctx.settings.recoveryPageLimit);
    const next = s.reading.then(async (): Promise<RecoveryPage> => {
      if (!this.sessions.has(s.id)) throw this.gone(s.id);
      s.lastUsedMs = this.ctx.clock.nowMs();
      const entries = await cursor.page(limit, this.ctx.settings.recoveryPageBytes);
      for (const e of entries) s.bytesSent += Buffer.byteLength(e.key) + e.value.length;
      return { entries: entries.map((e) => ({ key: e.key, value: Buffer.from(e.value).toString('base64') })), done: cursor.done };
    });
    s.reading = next.catch(() => undefined);
    return next;
  }

  /**
   * Between two batches: the replica must have acknowledged, through its
   * live stream, every seq this primary has; then it joins the in-sync set.
   */
  finish(req: RecoveryFinishRequest): Promise<RecoveryFinish> {
    const s = this.find(req.recoveryId);
    const { ctx } = this;
    return s.pipeline.between(async () => {
      if (!this.sessions.has(s.id)) throw this.gone(s.id);
      const { copy, stream } = s;
      try {
        if (!copy.isPrimary(ctx.id) || ctx.copies.get(copy.id) !== copy) throw notPrimary(copy.id, ctx.id, copy.assignment?.primary ?? null, copy.epoch);
        const ackWait = new AbortController();
        await Promise.race([stream.idle(), sleepOn(ctx.timers, replicaAckTimeoutMs(ctx), ackWait.signal)]).finally(() => ackWait.abort());
        if (stream.broken !== null) throw resync(copy.id, s.replica, `its live stream broke (${stream.broken})`);
        if (stream.ackedSeq !== copy.lastSeq || req.lastSeq > copy.lastSeq) {
          throw resync(copy.id, s.replica, `it reports seq ${req.lastSeq} and acknowledged ${stream.ackedSeq}; the primary is at ${copy.lastSeq}`);
        }
        const how =
          s.caughtUpFrom === null
            ? `recovered from ${ctx.id} up to seq ${copy.lastSeq}`
            : `caught up from ${ctx.id}: kept its own data up to seq ${s.caughtUpFrom}, replayed ${copy.lastSeq - s.caughtUpFrom} writes up to seq ${copy.lastSeq}`;
        try {
          const epoch = await s.pipeline.fanOut.setInSync(s.replica, true, how, s.bytesSent);
          return { epoch };
        } catch (e) {
          s.pipeline.fanOut.holdUnsettledJoin(s.replica, how, e);
          throw e;
        }
      } finally {
        this.end(s, 'finished');
      }
    });
  }

  /** Ends the sessions of one shard (the copy stopped being primary or was dropped). */
  endShard(shard: number, reason: string): void {
    for (const s of this.sessions.values()) if (s.copy.id === shard) this.end(s, reason);
  }

  /** Ends every session and releases its snapshot (before the store closes). */
  async close(): Promise<void> {
    this.sweeper.cancel();
    for (const s of this.sessions.values()) this.end(s, 'node stopping');
    await Promise.all(this.releasing);
  }

  private find(id: string): Session {
    const s = this.sessions.get(id);
    if (s === undefined) throw this.gone(id);
    return s;
  }

  private gone(id: string): ClusterError {
    return new ClusterError({ code: ClusterErrorCode.Conflict, reason: 'RESYNC' }, `node ${this.ctx.id} has no recovery ${id} (finished, replaced or idle too long): start again`);
  }

  private end(s: Session, reason: string): void {
    if (!this.sessions.delete(s.id)) return;
    // A finished session's stream carries on as an in-sync target; any other one is done for.
    if (reason !== 'finished' || s.stream.broken !== null || !s.copy.isInSync(s.replica)) s.stream.break(reason);
    s.pipeline.fanOut.removeLive(s.stream);
    const released = s.reading.then(async () => {
      await s.cursor?.close().catch(() => undefined);
      await s.snapshot?.close().catch(() => undefined);
    });
    this.releasing.add(released);
    void released.finally(() => this.releasing.delete(released));
  }

  private sweep(): void {
    const now = this.ctx.clock.nowMs();
    for (const s of this.sessions.values()) if (now - s.lastUsedMs > this.ctx.settings.recoveryIdleMs) this.end(s, 'idle too long');
  }
}
