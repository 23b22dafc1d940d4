/**
 * The replica's Ready loop: takes each Ready of the Raft core, persists it
 * (one write, before its messages go out — except a leader's, see
 * sendsBeforePersist), sends, applies what it commits, and advances. The
 * production replica and the system simulation run this same loop; what
 * differs is only the storage, outbox and clock passed in.
 */
import type { Metrics } from '../observability/index.js';
import type { Entry, FailedRead, RawNode, Ready, ReadState, Snapshot, SoftState } from '../raft/index.js';
import type { PersistedBatch, RaftStorage } from '../storage/index.js';
import { batchOf, isEmptyBatch } from '../storage/index.js';
import type { Clock } from '../common/clock.js';
import type { Outbox } from './outbox.js';

/** What the loop hands back to its replica, in the order a Ready needs it. */
export interface ReadyHandler {
  applyCommitted(e: Entry): void;
  confirmReads(rd: { readonly readStates: readonly ReadState[]; readonly failedReads: readonly FailedRead[] }): void;
  onSoftState(s: SoftState): void;
  installSnapshot(s: Snapshot): void;
  /** A Ready that changed the leader is applied: what went to another leader will not be answered. */
  leaderSettled(leader: string): void;
  /** After each advance (reads to answer, snapshot to take, metrics). */
  advanced(): void;
  /** The log store failed: the replica cannot go on. */
  fatal(e: unknown): void;
}

export interface ReadyLoopOptions {
  /** A leader's heartbeat interval; a write in flight longer than two of them lets heartbeats out alone. */
  readonly heartbeatMs: number;
}

export interface ReadyLoopModules {
  readonly raft: RawNode;
  readonly storage: RaftStorage;
  readonly outbox: Outbox;
  readonly clock: Clock;
  readonly handler: ReadyHandler;
  readonly metrics?: Metrics;
  /** Disk-fault injection only: called once a Ready is persisted, before it is applied (and a follower's messages go out); may end the process. */
  readonly afterPersist?: (batch: PersistedBatch) => void;
}

export class ReadyLoop {
  private driving = false;
  private driveDone: Promise<void> = Promise.resolve();
  private stopped = false;
  /** When the write in flight began; undefined while none is. */
  private persistStartedMs: number | undefined;
  /** Callers waiting for the next advance() of the Ready in flight. */
  private advanceWaiters: (() => void)[] = [];
  /** The term and vote known durable here (the core starts from what storage loaded). */
  private durableTerm: number;
  private durableVote: string;

  constructor(
    private readonly opts: ReadyLoopOptions,
    private readonly modules: ReadyLoopModules,
  ) {
    const s = modules.raft.status();
    this.durableTerm = s.term;
    this.durableVote = s.vote;
  }

  /** A Ready is being worked on (its write may be in flight). */
  get busy(): boolean {
    return this.driving;
  }

  /** Starts the loop unless it runs: steps, ticks and proposals arriving while a write is in flight land in the next Ready (the group commit). */
  kick(): void {
    if (this.driving || this.stopped) return;
    this.driving = true;
    this.driveDone = this.drive();
  }

  /** Resolves at the next advance, or when the loop's cycle ends without one. */
  nextAdvance(): Promise<void> {
    return new Promise<void>((resolve) => this.advanceWaiters.push(resolve));
  }

  /**
   * While a write is in flight the next Ready waits for it; a leader's
   * heartbeats need not (see RawNode.takeLeaderHeartbeats). Once a write has
   * taken longer than two heartbeat intervals they go out on their own: a
   * synced write that takes a second on a busy disk must not cost the
   * leadership (measured at 1,000 nodes: followers elected behind 1 s writes).
   */
  sendLeaderMessagesEarly(): void {
    if (!this.driving || this.persistStartedMs === undefined) return;
    if (this.modules.clock.nowMs() - this.persistStartedMs < 2 * this.opts.heartbeatMs) return;
    const msgs = this.modules.raft.takeLeaderHeartbeats();
    if (msgs.length > 0) this.modules.outbox.send(msgs);
  }

  /** Stops taking Readies and waits for the write in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.driveDone;
  }

  /**
   * A leader's messages may leave while its own write is in flight (Raft
   * thesis §10.2.1, as etcd does): its appends carry entries it will count
   * for itself only once they are synced here (the core counts the leader at
   * its stable index), so the followers' fsyncs overlap its own. Everything
   * else a leader sends depends on nothing unsynced — as long as its term
   * and vote are already durable: a Ready that also changes them (a
   * single-voter leader elected within one step) waits for its write, since
   * a restart could reuse that term.
   */
  private sendsBeforePersist(rd: Ready): boolean {
    if (this.modules.raft.currentRole !== 'leader' || rd.snapshot !== undefined) return false;
    if (rd.softState !== undefined && rd.softState.role !== 'leader') return false;
    return rd.hardState === undefined || (rd.hardState.term === this.durableTerm && rd.hardState.vote === this.durableVote);
  }

  private wakeAdvanceWaiters(): void {
    const waiters = this.advanceWaiters;
    this.advanceWaiters = [];
    for (const w of waiters) w();
  }

  private async drive(): Promise<void> {
    const { raft, storage, outbox, handler, metrics, clock } = this.modules;
    try {
      while (!this.stopped && raft.hasReady()) {
        const rd = raft.ready();
        const batch = batchOf(rd);
        const sentEarly = this.sendsBeforePersist(rd);
        if (sentEarly && rd.messages.length > 0) outbox.send(rd.messages);
        // What this Ready commits of entries already durable here does not wait for its write: the
        // answer goes out now, one write earlier.
        const early = rd.softState || rd.snapshot ? 0 : durablePrefix(rd.committedEntries, raft.raftLog.stableIndex);
        for (let i = 0; i < early; i++) handler.applyCommitted(rd.committedEntries[i]!);
        if (!rd.softState) handler.confirmReads(rd);
        if (!isEmptyBatch(batch)) {
          const started = performance.now();
          this.persistStartedMs = clock.nowMs();
          try {
            await storage.persist(batch);
          } finally {
            this.persistStartedMs = undefined;
          }
          metrics?.raft.persistSeconds.observe((performance.now() - started) / 1000);
          this.modules.afterPersist?.({ synced: batch.sync, messages: rd.messages.length });
          if (rd.hardState) {
            this.durableTerm = rd.hardState.term;
            this.durableVote = rd.hardState.vote;
          }
        }
        if (this.stopped) return;
        if (!sentEarly && rd.messages.length > 0) outbox.send(rd.messages);
        if (rd.softState) handler.onSoftState(rd.softState);
        if (rd.snapshot) handler.installSnapshot(rd.snapshot);
        for (let i = early; i < rd.committedEntries.length; i++) handler.applyCommitted(rd.committedEntries[i]!);
        // After applying: a proposal the old leader committed is answered, not failed.
        if (rd.softState) {
          handler.leaderSettled(rd.softState.leader);
          handler.confirmReads(rd);
        }
        raft.advance();
        this.wakeAdvanceWaiters();
        handler.advanced();
      }
    } catch (e) {
      this.stopped = true;
      handler.fatal(e);
    } finally {
      this.driving = false;
      // Whoever waits for an advance learns the cycle ended (and re-checks), also when it failed.
      this.wakeAdvanceWaiters();
    }
    if (!this.stopped && raft.hasReady()) this.kick();
  }
}

/**
 * How many of a Ready's committed entries are already in this replica's
 * durable log (index ≤ stableIndex): committed by a majority and synced here,
 * they may be applied before the Ready's own write. On a follower the others
 * may be in that very write.
 */
function durablePrefix(committed: readonly Entry[], stableIndex: number): number {
  let n = 0;
  while (n < committed.length && committed[n]!.index <= stableIndex) n++;
  return n;
}
