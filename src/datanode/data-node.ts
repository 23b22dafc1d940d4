/**
 * The data node (DESIGN.md §6) as an engine with I/O ports only: it reaches
 * the coordinators through a CoordinatorLink and its peers through a
 * PeerLink; the API layer serves its DataNodeService over HTTP.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { monotonicClock, realTimers, type Clock, type Timer, type Timers } from '../common/clock.js';
import { withDeadline } from '../common/deadline-signal.js';
import { keyProblem } from '../common/data-key.js';
import { shardForKey } from '../common/key-hash.js';
import { ClusterError, ClusterErrorCode } from '../errors/index.js';
import type { Logger } from '../observability/index.js';
import type {
  DataNodeHealth,
  DataNodeInfo,
  DataNodeService,
  HandoffDone,
  HandoffRequest,
  LeaseGrant,
  LeaseInfo,
  RecoveryBegin,
  RecoveryBeginRequest,
  RecoveryFinish,
  RecoveryFinishRequest,
  RecoveryPage,
  RecoveryPageRequest,
  HeldCopy,
  RecoveryProgress,
  ReplicationAck,
  ReplicationBatch,
} from './contract.js';
import { invalidInput, noLease, notPrimary, resync, staleEpoch, stopping, unavailable } from './errors.js';
import { loadOrCreateIdentity } from './identity.js';
import { LeaseHolder } from './lease.js';
import type { NodeContext } from './node-context.js';
import { nodeSettings, type DataNodeModules, type DataNodeOptions, type NodeSettings } from './options.js';
import { RecoverySessions } from './primary/recovery-sessions.js';
import { reconcile } from './reconcile.js';
import { registerUntilDone } from './registration.js';
import { applyInSync } from './replica/apply-batch.js';
import { LoadMeter } from './load-meter.js';
import { ShardCopy } from './shard-copy.js';
import { ShardLocks } from './shard-locks.js';
import { ShardStore } from './store/shard-store.js';

/** A read waits at most this many times for batches that hold its key. */
const MAX_READ_WAITS = 1_000;

const NO_LEASE_INFO: LeaseInfo = { valid: false, remainingMs: 0, leader: null, term: null };

/** What only exists once start() has opened the store and loaded the identity. */
interface Running {
  readonly ctx: NodeContext;
  readonly store: ShardStore;
  readonly lease: LeaseHolder;
  readonly sessions: RecoverySessions;
}

export class DataNode implements DataNodeService {
  private readonly settings: NodeSettings;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly life = new AbortController();
  private readonly copies = new Map<number, ShardCopy>();
  private readonly locks = new ShardLocks();
  private readonly listeners = new Set<() => void>();
  private readonly grantWatchers = new Set<(grant: LeaseGrant) => void>();
  private readonly startedAtMs: number;
  /** Reads and writes served per shard: reported with each lease renewal. */
  private readonly load: LoadMeter;
  private running: Running | null = null;
  private registered = false;
  private draining = false;
  private startCalled = false;
  private stopped: Promise<void> | null = null;
  /** start()'s opening of the identity and store, settled (null before start). */
  private opening: Promise<unknown> | null = null;

  constructor(
    private readonly opts: DataNodeOptions,
    private readonly modules: DataNodeModules,
  ) {
    this.settings = nodeSettings(opts);
    this.logger = modules.logger.child({ node: opts.id });
    this.clock = modules.clock ?? monotonicClock;
    this.timers = modules.timers ?? realTimers;
    this.random = modules.random ?? Math.random;
    this.startedAtMs = this.clock.nowMs();
    this.load = new LoadMeter(this.clock);
  }

  async start(): Promise<void> {
    if (this.startCalled) throw new Error(`data node ${this.opts.id}: start() was called twice`);
    this.startCalled = true;
    const dir = path.resolve(this.opts.dataDir);
    const opened = this.openStore(dir);
    // A stop() meanwhile waits for this, so that a stopped node has no store still opening on its disk.
    this.opening = opened.catch(() => undefined);
    const { store, identity } = await opened;
    this.running = this.wire(store, identity);
    this.logger.info('data node starting', { dataDir: dir, copies: this.copies.size });
    const { id, address, capacity, version, labels } = this.opts;
    try {
      await registerUntilDone(
        this.modules.coordinators,
        { id, address, capacity, version, identity, ...(labels === undefined ? {} : { labels }) },
        dir,
        this.settings,
        this.logger,
        this.timers,
        this.random,
        this.life.signal,
      );
    } catch (e) {
      await this.stop();
      throw e;
    }
    this.registered = true;
    this.changed();
    this.running.lease.start();
  }

  private async openStore(dir: string): Promise<{ store: ShardStore; identity: string }> {
    await mkdir(dir, { recursive: true });
    const identity = await loadOrCreateIdentity(dir);
    const store = await ShardStore.open(path.join(dir, 'db'));
    for (const [shard, meta] of await store.loadMetas()) this.copies.set(shard, new ShardCopy(shard, meta));
    if (this.stopped !== null) {
      await store.close();
      throw stopping(this.opts.id);
    }
    return { store, identity };
  }

  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  async drain(timeoutMs: number): Promise<void> {
    const { lease } = this.need();
    this.draining = true;
    this.changed();
    let shardsLeft = -1;
    let watcher: ((g: LeaseGrant) => void) | undefined;
    const drained = new Promise<void>((resolve) => {
      watcher = (g) => {
        if (g.shards.length !== shardsLeft) {
          shardsLeft = g.shards.length;
          this.logger.info('draining', { shardsLeft, status: g.status });
        }
        if (g.shards.length === 0 && (g.status === 'draining' || g.status === 'left')) resolve();
      };
      this.grantWatchers.add(watcher);
    });
    let timer: Timer | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = this.timers.after(timeoutMs, () =>
        reject(new ClusterError({ code: ClusterErrorCode.Timeout, operation: 'drain', timeoutMs }, `node ${this.opts.id}: drain did not finish within ${timeoutMs} ms (${shardsLeft} shard copies left)`)),
      );
    });
    try {
      // The deadline goes when the call settles, not when the race is lost: it is what ends the call then.
      const drainCall = withDeadline(timeoutMs, [this.life.signal], this.timers, (signal) => this.modules.coordinators.drain(this.opts.id, 'graceful shutdown', signal));
      await Promise.race([drainCall, timedOut]);
      await lease.renew();
      await Promise.race([drained, timedOut]);
      this.logger.info('drained: no shard copies left');
    } finally {
      timer?.cancel();
      this.grantWatchers.delete(watcher!);
    }
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  health(): DataNodeHealth {
    const lease = this.running?.lease;
    const status = this.draining ? 'draining' : this.registered && lease?.grant != null ? 'ok' : 'starting';
    return { status, id: this.opts.id, lease: lease?.info() ?? NO_LEASE_INFO };
  }

  info(): DataNodeInfo {
    const lease = this.running?.lease;
    return {
      id: this.opts.id,
      address: this.opts.address,
      version: this.opts.version,
      status: lease?.grant?.status ?? null,
      registered: this.registered,
      uptimeMs: Math.round(this.clock.nowMs() - this.startedAtMs),
      lease: lease?.info() ?? NO_LEASE_INFO,
      shards: [...this.copies.values()]
        .sort((a, b) => a.id - b.id)
        .map((c) => ({ id: c.id, role: c.role(this.opts.id), epoch: c.epoch, seq: c.lastSeq, keys: c.keyCount, recovery: c.recovery?.snapshotProgress() ?? null })),
    };
  }

  async get(key: string, epoch?: number): Promise<Uint8Array | null> {
    const copy = await this.servingCopy(key, epoch);
    const value = await this.read(copy, key);
    this.load.record(copy.id, 'read', value?.length ?? 0);
    return value;
  }

  private async read(copy: ShardCopy, key: string): Promise<Uint8Array | null> {
    const { store } = this.need();
    const pipeline = copy.pipeline!;
    // A stored write is visible only once replicated: wait out the batches that hold the key.
    for (let i = 0; i < MAX_READ_WAITS; i++) {
      if (!pipeline.hasInFlight(key)) {
        this.checkServing(copy);
        const snapshot = store.snapshot();
        try {
          return await store.get(copy.id, key, snapshot);
        } finally {
          await snapshot.close();
        }
      }
      await pipeline.batchSettled();
    }
    throw unavailable(copy.id, 'busy', `shard ${copy.id}: key kept being written while a read waited`);
  }

  async put(key: string, value: Uint8Array, epoch?: number): Promise<void> {
    const copy = await this.servingCopy(key, epoch);
    const limitBytes = this.need().lease.grant!.maxValueBytes;
    if (value.length > limitBytes) {
      throw new ClusterError({ code: ClusterErrorCode.PayloadTooLarge, limitBytes, sizeBytes: value.length }, `value of ${value.length} bytes for key in shard ${copy.id}: the limit is ${limitBytes} bytes`);
    }
    await copy.pipeline!.write({ key, value });
    this.load.record(copy.id, 'write', value.length);
  }

  async delete(key: string, epoch?: number): Promise<void> {
    const copy = await this.servingCopy(key, epoch);
    await copy.pipeline!.write({ key, value: null });
    this.load.record(copy.id, 'write', 0);
  }

  async replicate(batch: ReplicationBatch): Promise<ReplicationAck> {
    const { ctx } = this.need();
    checkContiguous(batch);
    const copy = await this.copyAt(batch.shard, batch.epoch);
    if (copy === undefined) throw resync(batch.shard, this.opts.id, `it holds no copy of shard ${batch.shard} at epoch ${batch.epoch}`);
    return this.locks.run(batch.shard, async () => {
      if (this.copies.get(batch.shard) !== copy) throw resync(batch.shard, this.opts.id, 'its copy was dropped');
      if (batch.epoch < copy.epoch) throw staleEpoch(copy.id, batch.epoch, copy.epoch, this.opts.id);
      const primary = copy.assignment!.primary;
      if (primary !== batch.primary || primary === this.opts.id) throw notPrimary(copy.id, batch.primary, primary, copy.epoch);
      if (copy.recovery !== null && copy.recovery.primary === batch.primary) return copy.recovery.live(batch);
      if (!copy.isInSync(this.opts.id)) throw resync(copy.id, this.opts.id, `it is out of sync at epoch ${copy.epoch} and not recovering from ${batch.primary}`);
      return applyInSync(ctx, copy, batch);
    });
  }

  async beginRecovery(req: RecoveryBeginRequest): Promise<RecoveryBegin> {
    const { sessions } = this.need();
    const copy = await this.primaryAt(req.shard, req.epoch);
    return sessions.begin(copy, copy.pipeline!, req);
  }

  async recoveryPage(req: RecoveryPageRequest): Promise<RecoveryPage> {
    return this.need().sessions.page(req);
  }

  async finishRecovery(req: RecoveryFinishRequest): Promise<RecoveryFinish> {
    return this.need().sessions.finish(req);
  }

  async handoff(req: HandoffRequest): Promise<HandoffDone> {
    const copy = await this.primaryAt(req.shard, req.epoch, true);
    const pipeline = copy.pipeline!;
    if (copy.fence === null) {
      copy.fence = { reason: 'handing over', epoch: copy.epoch };
      this.logger.info('handing over: the shard takes no more writes at this epoch', { shard: copy.id, epoch: copy.epoch });
      this.changed();
    }
    pipeline.rejectQueued(unavailable(copy.id, 'handing over', `shard ${copy.id} on node ${this.opts.id} is handing over to another primary`));
    return pipeline.between(async () => ({ lastSeq: copy.lastSeq, caughtUp: pipeline.caughtUp }));
  }

  private wire(store: ShardStore, identity: string): Running {
    let sessions!: RecoverySessions;
    const lease = new LeaseHolder({
      id: this.opts.id,
      identity,
      coordinators: this.modules.coordinators,
      logger: this.logger,
      clock: this.clock,
      timers: this.timers,
      settings: this.settings,
      signal: this.life.signal,
      recoveries: () => this.recoveries(),
      load: () => this.load.report(),
      holdings: () => this.holdings(),
      onGrant: (g) => {
        reconcile(ctx, sessions, g);
        for (const w of this.grantWatchers) w(g);
      },
      onLeaseChange: () => this.changed(),
    });
    const ctx: NodeContext = {
      id: this.opts.id,
      settings: this.settings,
      store,
      locks: this.locks,
      coordinators: this.modules.coordinators,
      peers: this.modules.peers,
      logger: this.logger,
      clock: this.clock,
      timers: this.timers,
      random: this.random,
      lease,
      copies: this.copies,
      signal: this.life.signal,
      changed: () => this.changed(),
    };
    sessions = new RecoverySessions(ctx);
    return { ctx, store, lease, sessions };
  }

  private async shutdown(): Promise<void> {
    if (this.running === null) {
      this.life.abort();
      await this.opening;
    }
    const r = this.running;
    if (r === null || !this.registered) this.life.abort();
    if (r === null) return;
    r.lease.stop();
    const err = stopping(this.opts.id);
    for (const copy of this.copies.values()) {
      copy.pipeline?.close('node stopping', err);
      copy.recovery?.close('node stopping');
    }
    // The batch in flight finishes (its replicas answer or time out) before anything is cut.
    await Promise.all([...this.copies.values()].map((c) => c.pipeline?.idle()));
    this.life.abort();
    await r.sessions.close();
    await this.locks.idle();
    await r.store.close();
    this.logger.info('data node stopped');
  }

  private need(): Running {
    if (this.running === null || this.stopped !== null) throw stopping(this.opts.id);
    return this.running;
  }

  private changed(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch (e) {
        this.logger.warn('an onChange listener threw', { err: e });
      }
    }
  }

  private holdings(): HeldCopy[] {
    const me = this.opts.id;
    return [...this.copies.values()].map((c) => ({
      shard: c.id,
      epoch: c.epoch,
      lastSeq: c.lastSeq,
      primary: c.assignment?.primary ?? c.followed,
      inSync: c.recovery === null && c.state === 'in-sync' && (c.assignment === null || c.assignment.inSync.includes(me)),
    }));
  }

  private recoveries(): RecoveryProgress[] {
    const out: RecoveryProgress[] = [];
    for (const c of this.copies.values()) if (c.recovery !== null) out.push(c.recovery.snapshotProgress());
    return out;
  }

  /**
   * The copy at `epoch`, renewing the lease once when the request knows a
   * newer epoch than this node (or a shard it does not know it holds).
   * undefined: the node holds no copy of the shard.
   */
  private async copyAt(shard: number, epoch: number): Promise<ShardCopy | undefined> {
    for (let attempt = 0; ; attempt++) {
      const copy = this.copies.get(shard);
      const known = copy?.assignment != null ? copy : undefined;
      if (known !== undefined && epoch < known.epoch) throw staleEpoch(shard, epoch, known.epoch, this.opts.id);
      if (known !== undefined && epoch === known.epoch) return known;
      if (attempt > 0) {
        if (known === undefined) return undefined;
        throw staleEpoch(shard, epoch, known.epoch, this.opts.id);
      }
      await this.need().lease.refresh();
    }
  }

  /** The copy this node is primary of at `epoch` (a handoff also accepts one it has fenced for handing over). */
  private async primaryAt(shard: number, epoch: number, handingOver = false): Promise<ShardCopy> {
    const copy = await this.copyAt(shard, epoch);
    if (copy === undefined || !copy.isPrimary(this.opts.id) || copy.pipeline === null) {
      throw notPrimary(shard, this.opts.id, copy?.assignment?.primary ?? null, copy?.epoch);
    }
    if (copy.fence !== null && !(handingOver && copy.fence.reason === 'handing over')) {
      throw unavailable(shard, copy.fence.reason, `shard ${shard} on node ${this.opts.id} is ${copy.fence.reason} (epoch ${copy.fence.epoch})`);
    }
    return copy;
  }

  /** The checks of every read and write: key, lease, epoch, primary, fence. */
  private async servingCopy(key: string, epoch: number | undefined): Promise<ShardCopy> {
    const problem = keyProblem(key);
    if (problem !== undefined) throw invalidInput([problem]);
    if (epoch !== undefined && (!Number.isSafeInteger(epoch) || epoch < 0)) throw invalidInput([`epoch: expected a non-negative integer, got ${epoch}`]);
    for (let attempt = 0; ; attempt++) {
      const { lease } = this.need();
      const grant = lease.grant;
      if (grant === null || !lease.valid()) throw noLease(this.opts.id);
      const shard = shardForKey(key, grant.shardCount);
      const copy = this.copies.get(shard);
      const known = copy?.assignment != null ? copy : undefined;
      if (epoch !== undefined) {
        if ((known === undefined || epoch > known.epoch) && attempt === 0) {
          await lease.refresh();
          continue;
        }
        if (known !== undefined && epoch !== known.epoch) throw staleEpoch(shard, epoch, known.epoch, this.opts.id);
      }
      if (known === undefined || !known.isPrimary(this.opts.id) || known.pipeline === null) {
        throw notPrimary(shard, this.opts.id, known?.assignment?.primary ?? null, known?.epoch);
      }
      this.checkServing(known);
      return known;
    }
  }

  /** Synchronous re-check right before serving: the lease may have run out, or the shard been fenced, while the request waited. */
  private checkServing(copy: ShardCopy): void {
    const { lease } = this.need();
    if (!lease.valid()) throw noLease(this.opts.id);
    if (this.copies.get(copy.id) !== copy || !copy.isPrimary(this.opts.id)) throw notPrimary(copy.id, this.opts.id, copy.assignment?.primary ?? null, copy.epoch);
    if (copy.fence !== null) throw unavailable(copy.id, copy.fence.reason, `shard ${copy.id} on node ${this.opts.id} is ${copy.fence.reason} (epoch ${copy.fence.epoch})`);
  }
}

/** The API layer validates batches; in-process callers get the same refusal for a broken run. */
function checkContiguous(batch: ReplicationBatch): void {
  if (batch.ops.length === 0) throw invalidInput(['ops: expected at least one op']);
  const at = batch.ops.findIndex((o, i) => o.seq !== batch.firstSeq + i);
  if (at !== -1) throw invalidInput([`ops[${at}].seq: expected ${batch.firstSeq + at} (ops are contiguous from firstSeq ${batch.firstSeq})`]);
}
