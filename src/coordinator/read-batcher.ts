/**
 * Linearizable reads through ReadIndex, batched: one round is in flight at a
 * time (as in etcd), and reads arriving meanwhile wait and share the next
 * one, so a burst of reads costs one heartbeat round, not one each.
 */
import { ClusterError, ClusterErrorCode } from '../errors/index.js';
import type { FailedRead, RawNode, ReadState } from '../raft/index.js';
import type { RoutingState } from './routing/index.js';
import type { Clock, Timer, Timers } from '../common/clock.js';
import { toClusterError } from './raft-errors.js';
import type { StateRead } from './service.js';
import { TurnQueue } from './turn-queue.js';

/** Linearizable reads waiting here at most (each holds a timer and a promise); more are refused as overloaded. */
export const MAX_PENDING_READS = 10_000;
/** Confirmed reads answered per turn of the event loop (each answer runs its caller's continuation: a renewal's grant, its JSON). */
const READS_ANSWERED_PER_TURN = 32;
/** A ReadIndex round unanswered after this many heartbeat intervals (its message lost?) no longer holds the next one back. */
const READ_ROUND_STALL_HEARTBEATS = 2;

interface PendingRead {
  readonly resolve: (v: StateRead) => void;
  readonly reject: (e: unknown) => void;
  readonly timer: Timer;
  index: number | undefined;
}

/** One ReadIndex request of the core, shared by the reads that were waiting when it started. */
interface ReadRound {
  readonly reads: readonly string[];
  readonly startedMs: number;
}

export interface ReadBatcherOptions {
  readonly replicaId: string;
  readonly heartbeatMs: number;
  readonly readTimeoutMs: number;
}

export interface ReadBatcherModules {
  readonly raft: RawNode;
  readonly clock: Clock;
  readonly timers: Timers;
  /** The replica's table and applied index as they are now. */
  readonly applied: () => { readonly state: RoutingState; readonly appliedIndex: number };
  readonly newRequestId: () => string;
  /** The core has work (a ReadIndex request to send). */
  readonly kick: () => void;
  readonly apiAddressOf: (id: string) => string | undefined;
}

export class ReadBatcher {
  private readonly reads = new Map<string, PendingRead>();
  /** ReadIndex rounds by their request id. */
  private readonly readRounds = new Map<string, ReadRound>();
  private roundInFlight: string | undefined;
  private readsForNextRound: string[] = [];
  /** Answers to confirmed reads, a batch per turn (see settle). */
  private readonly answers = new TurnQueue({ perTurn: READS_ANSWERED_PER_TURN, maxQueued: MAX_PENDING_READS + 1 });

  constructor(
    private readonly opts: ReadBatcherOptions,
    private readonly modules: ReadBatcherModules,
  ) {}

  read(timeoutMs: number): Promise<StateRead> {
    const id = this.modules.newRequestId();
    const done = new Promise<StateRead>((resolve, reject) => {
      const timer = this.modules.timers.after(timeoutMs, () => {
        this.reads.delete(id);
        reject(new ClusterError({ code: ClusterErrorCode.NoQuorum, reason: `no majority confirmed the leader within ${timeoutMs} ms` }, `linearizable read not confirmed within ${timeoutMs} ms: no quorum reachable`));
      });
      this.reads.set(id, { resolve, reject, timer, index: undefined });
    });
    if (this.reads.size > MAX_PENDING_READS) {
      this.drop(id);
      throw new ClusterError({ code: ClusterErrorCode.Overloaded, retryAfterMs: 50 }, `replica ${this.opts.replicaId} has ${MAX_PENDING_READS} linearizable reads waiting; retry shortly`);
    }
    if (this.roundInFlight !== undefined) {
      this.readsForNextRound.push(id);
      return done;
    }
    try {
      this.startRound([id]);
    } catch (e) {
      this.drop(id);
      throw toClusterError(e, this.modules.apiAddressOf);
    }
    return done;
  }

  /** A Ready's read confirmations and failures; the confirmed ones are answered once their index is applied. */
  confirm(rd: { readonly readStates: readonly ReadState[]; readonly failedReads: readonly FailedRead[] }): void {
    for (const rs of rd.readStates) this.confirmed(rs);
    for (const fr of rd.failedReads) this.failed(fr);
    this.settle();
  }

  /**
   * Reads whose index is applied are answered from the table as it is when
   * their turn comes (at least that fresh): a batch per turn of the event
   * loop, since one ReadIndex round may answer a thousand lease renewals,
   * and all their continuations at once would hold back Raft's tick.
   */
  settle(): void {
    const { appliedIndex } = this.modules.applied();
    for (const [id, r] of this.reads) {
      if (r.index !== undefined && r.index <= appliedIndex) {
        this.drop(id);
        const answer = (): void => {
          const now = this.modules.applied();
          r.resolve({ state: now.state, appliedIndex: now.appliedIndex, consistency: 'linearizable', stalenessMs: 0 });
        };
        // A full queue (more answers waiting than reads may) answers at once rather than never.
        if (!this.answers.push(answer)) answer();
      }
    }
  }

  /**
   * A round whose request or answer was lost would hold every later read
   * back until its timeout: after a while the next round starts anyway (the
   * stalled one may still answer its own reads). Rounds older than any read
   * they could serve are forgotten. Called on every tick.
   */
  checkRounds(): void {
    const now = this.modules.clock.nowMs();
    const inFlight = this.roundInFlight === undefined ? undefined : this.readRounds.get(this.roundInFlight);
    if (inFlight && now - inFlight.startedMs > READ_ROUND_STALL_HEARTBEATS * this.opts.heartbeatMs) {
      this.roundInFlight = undefined;
      this.startNextRound();
    }
    const forgetBeforeMs = now - this.opts.readTimeoutMs - 1_000;
    for (const [id, round] of this.readRounds) {
      if (id !== this.roundInFlight && round.startedMs < forgetBeforeMs) this.readRounds.delete(id);
    }
  }

  /** Fails every waiting read with `err` (the replica is closing). */
  failAll(err: () => unknown): void {
    for (const r of this.reads.values()) (r.timer.cancel(), r.reject(err()));
    this.reads.clear();
    this.readRounds.clear();
    this.readsForNextRound = [];
    this.roundInFlight = undefined;
  }

  /** Asks the core for one read index on behalf of `reads`; throws what the core throws (no leader, …). */
  private startRound(reads: readonly string[]): void {
    const round = this.modules.newRequestId();
    this.modules.raft.readIndex(round);
    this.readRounds.set(round, { reads, startedMs: this.modules.clock.nowMs() });
    this.roundInFlight = round;
    this.modules.kick();
  }

  /** The round in flight ended (or stalled): the reads that waited for it start the next one. */
  private startNextRound(): void {
    if (this.roundInFlight !== undefined || this.readsForNextRound.length === 0) return;
    const waiting = this.readsForNextRound.filter((id) => this.reads.has(id));
    this.readsForNextRound = [];
    if (waiting.length === 0) return;
    try {
      this.startRound(waiting);
    } catch (e) {
      const err = toClusterError(e, this.modules.apiAddressOf);
      for (const id of waiting) {
        const r = this.reads.get(id);
        this.drop(id);
        r?.reject(err);
      }
    }
  }

  /** The round `id` was answered or failed: its reads leave it, and the next round may start. */
  private endRound(id: string): readonly string[] {
    const round = this.readRounds.get(id);
    this.readRounds.delete(id);
    if (this.roundInFlight === id) {
      this.roundInFlight = undefined;
      this.startNextRound();
    }
    return round?.reads ?? [];
  }

  private confirmed(rs: ReadState): void {
    for (const id of this.endRound(rs.requestId)) {
      const r = this.reads.get(id);
      if (r) r.index = rs.index;
    }
  }

  private failed(fr: FailedRead): void {
    for (const id of this.endRound(fr.requestId)) {
      const r = this.reads.get(id);
      if (!r) continue;
      this.drop(id);
      r.reject(new ClusterError({ code: ClusterErrorCode.NoQuorum, reason: fr.reason }, `linearizable read failed: ${fr.reason}`));
    }
  }

  private drop(id: string): void {
    const r = this.reads.get(id);
    if (r) r.timer.cancel();
    this.reads.delete(id);
  }
}
