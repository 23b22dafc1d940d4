/**
 * A coordinator replica: drives the Raft core with a timer, persists every
 * Ready (one write, before its messages go out), applies committed entries to
 * the routing table, and offers the table to the API (CoordinatorService).
 *
 * Followers serve everything through Raft itself: their proposals are
 * forwarded by the core (the leader restamps `atMs` with its clock) and come
 * back to them as committed entries they apply like everyone else, so the
 * proposer learns apply's outcome locally; linearizable reads use ReadIndex.
 */
import { ClusterError, ClusterErrorCode } from '../errors/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import {
  EntryType,
  RawNode,
  decodeConfChange,
  type Entry,
  type FailedRead,
  type Message,
  type ReadState,
  type Rng,
  type Snapshot,
  type SoftState,
} from '../raft/index.js';
import type { PersistedBatch, RaftStorage } from '../storage/index.js';
import { batchOf, isEmptyBatch } from '../storage/index.js';
import type { RaftSettings } from '../config/index.js';
import { notLeaderError } from './not-leader.js';
import { decodeProposal, encodeProposal, restampProposal } from './proposal-envelope.js';
import { toClusterError } from './raft-errors.js';
import { TurnQueue } from './turn-queue.js';
import {
  apply,
  applyMemberChange,
  deserializeState,
  encodeMemberContext,
  parseCommand,
  serializeState,
  stateHash,
  type ApplyResult,
  type Command,
  type RoutingEvent,
  type RoutingState,
} from './routing/index.js';
import type {
  CommandOutcome,
  Consistency,
  CoordinatorService,
  MemberStatus,
  NewMember,
  ReplicaStatus,
  RoleChange,
  StateRead,
} from './service.js';

/** Where the replica's messages go: the peer transport, seen from here. */
export interface Outbox {
  send(msgs: readonly Message[]): void;
  setPeers(peers: ReadonlyMap<string, { host: string; peerPort: number }>): void;
}

export interface ReplicaOptions {
  readonly id: string;
  readonly clusterId: string;
  readonly version: string;
  readonly raft: RaftSettings;
  /** The voters of a bootstrapped cluster (the cluster file); a replica joining later passes none. */
  readonly initialVoters: readonly string[];
  /** The routing table before the first entry (built from the cluster file). */
  readonly initialTable: RoutingState;
  readonly proposalTimeoutMs?: number;
  readonly readTimeoutMs?: number;
}

export interface ReplicaModules {
  readonly storage: RaftStorage;
  readonly outbox: Outbox;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly rng: Rng;
  readonly clock?: { nowMs(): number };
  /** Fetches another replica's own status (GET /health), for /cluster/members. */
  readonly fetchStatus?: (apiAddress: string, timeoutMs: number) => Promise<ReplicaStatus | undefined>;
  /** The replica cannot go on (its log store failed): the process should exit and be restarted. */
  readonly onFatal?: (err: unknown) => void;
  /** Disk-fault injection only (TORUA_FAULTS): called once a Ready is persisted, before its messages go out; may end the process. */
  readonly afterPersist?: (batch: PersistedBatch) => void;
}

interface Pending<T> {
  readonly resolve: (v: T) => void;
  readonly reject: (e: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

interface PendingRead extends Pending<StateRead> {
  index: number | undefined;
}

interface EntryWaiter {
  readonly term: number;
  readonly resolve: (sameEntry: boolean) => void;
}

const DEFAULT_PROPOSAL_TIMEOUT_MS = 5_000;
const DEFAULT_READ_TIMEOUT_MS = 2_000;
const MEMBERS_FETCH_TIMEOUT_MS = 300;
/** How long removing a learner that was not promoted may take (a membership change of an idle cluster takes milliseconds). */
const DROP_LEARNER_TIMEOUT_MS = 5_000;
/** Linearizable reads waiting here at most (each holds a timer and a promise); more are refused as overloaded. */
const MAX_PENDING_READS = 10_000;
/** Confirmed reads answered per turn of the event loop (each answer runs its caller's continuation: a renewal's grant, its JSON). */
const READS_ANSWERED_PER_TURN = 32;
/** A snapshot for a new member waits at most this many Ready cycles for the core to count what was answered early. */
const MAX_ADVANCE_WAITS = 10;
/** A ReadIndex round unanswered after this many heartbeat intervals (its message lost?) no longer holds the next one back. */
const READ_ROUND_STALL_HEARTBEATS = 2;

/** One ReadIndex request of the core, shared by the reads that were waiting when it started. */
interface ReadRound {
  readonly reads: readonly string[];
  readonly startedMs: number;
}

export class CoordinatorReplica implements CoordinatorService {
  private readonly raft: RawNode;
  private table: RoutingState;
  private appliedIndex: number;
  private appliedSinceSnapshot = 0;
  private readonly clock: { nowMs(): number };
  private readonly startedAtMs: number;
  private readonly requestPrefix: string;
  private nextRequest = 0;
  /** Proposals waiting for their entry to apply, with the leader they went to. */
  private readonly proposals = new Map<string, Pending<CommandOutcome> & { leader: string }>();
  private readonly reads = new Map<string, PendingRead>();
  /**
   * ReadIndex rounds by their request id. One round is in flight at a time
   * (as in etcd): reads arriving meanwhile wait and share the next one, so a
   * burst of reads costs one heartbeat round, not one each.
   */
  private readonly readRounds = new Map<string, ReadRound>();
  private roundInFlight: string | undefined;
  private readsForNextRound: string[] = [];
  private readonly entryWaiters = new Map<number, EntryWaiter[]>();
  private readonly leaderWaiters = new Set<() => void>();
  private readonly eventListeners = new Set<(e: RoutingEvent) => void>();
  private readonly roleListeners = new Set<(c: RoleChange) => void>();
  /** When each peer was last heard from (leader's view of followers, follower's view of the leader). */
  private readonly lastHeardMs = new Map<string, number>();
  /** The last leader this replica knew ('' before it knew any), for the staleness of reads while none is known. */
  private lastLeader = '';
  /** The leader whose contact gaps are measured, and the longest gap since it became leader. */
  private gapLeader = '';
  private maxGapMs = 0;
  /** When the write in flight began; undefined while none is. */
  private persistStartedMs: number | undefined;
  private ticker: NodeJS.Timeout | undefined;
  /** Answers to confirmed reads, a batch per turn (see settleReads). */
  private readonly answers = new TurnQueue({ perTurn: READS_ANSWERED_PER_TURN, maxQueued: MAX_PENDING_READS + 1 });
  private driving = false;
  private driveDone: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly opts: ReplicaOptions,
    private readonly modules: ReplicaModules,
    raft: RawNode,
    table: RoutingState,
    appliedIndex: number,
  ) {
    this.raft = raft;
    this.table = table;
    this.appliedIndex = appliedIndex;
    this.clock = modules.clock ?? { nowMs: () => Date.now() };
    this.startedAtMs = this.clock.nowMs();
    // Unique across restarts, so a late entry of an earlier life never resolves a new request.
    this.requestPrefix = `${opts.id}.${this.startedAtMs.toString(36)}.${modules.rng.int(1 << 30).toString(36)}`;
  }

  /** Loads the durable state, rebuilds the table from the snapshot and starts ticking. */
  static async start(opts: ReplicaOptions, modules: ReplicaModules): Promise<CoordinatorReplica> {
    const initial = await modules.storage.load();
    const snapshot = initial.snapshot;
    const table = snapshot && snapshot.data.length > 0 ? deserializeState(snapshot.data) : opts.initialTable;
    const r = opts.raft;
    const raft = new RawNode(
      {
        id: opts.id,
        electionTicks: r.electionTicks,
        heartbeatTicks: r.heartbeatTicks,
        maxInflightMsgs: r.maxInflightMsgs,
        maxSizePerMsgBytes: r.maxSizePerMsgBytes,
        ...(r.leaderLossDelayTicks !== undefined ? { leaderLossDelayTicks: r.leaderLossDelayTicks } : {}),
        // A synced LevelDB write takes ~0.25 ms; a busy 2-core machine can still stall one for
        // hundreds of ms. Step down only after three election timeouts of a write not completing.
        persistStallTicks: 3 * r.electionTicks,
        ...(opts.initialVoters.length > 0 ? { initialConf: { voters: [...opts.initialVoters], learners: [] } } : {}),
      },
      { rng: modules.rng, initial },
    );
    const replica = new CoordinatorReplica(opts, modules, raft, table, snapshot?.meta.index ?? 0);
    replica.syncPeers();
    modules.logger.info('replica started', {
      term: initial.hardState.term,
      commit: initial.hardState.commit,
      snapshot: snapshot?.meta.index ?? 0,
      entries: initial.entries.length,
    });
    replica.ticker = setInterval(() => replica.tick(), r.tickMs);
    replica.kick();
    return replica;
  }

  // ---------------------------------------------------------------------
  // Inputs from the transport and the timer
  // ---------------------------------------------------------------------

  /** A message from a peer. */
  receive(m: Message): void {
    if (this.closed) return;
    const now = this.clock.nowMs();
    if (m.from === this.raft.currentLeader && m.from !== this.opts.id) this.noteLeaderContact(m.from, now);
    this.lastHeardMs.set(m.from, now);
    let msg = m;
    if (m.type === 'prop' && this.raft.currentRole === 'leader') {
      // Apply reads no clock: the leader stamps its own time into forwarded commands.
      const now = this.clock.nowMs();
      msg = { ...m, entries: m.entries.map((e) => ({ data: restampProposal(e.data, now) })) };
    }
    this.raft.step(msg);
    this.sendLeaderMessagesEarly();
    this.kick();
  }

  /** How regularly the leader's messages arrive: the measure of a leader starved by its other work. */
  private noteLeaderContact(leader: string, now: number): void {
    const m = this.modules.metrics;
    if (!m) return;
    const previous = this.lastHeardMs.get(leader);
    if (this.gapLeader !== leader || previous === undefined) {
      this.gapLeader = leader;
      this.maxGapMs = 0;
      m.raft.leaderContactGapMaxSeconds.set(0);
      return;
    }
    const gapMs = now - previous;
    m.raft.leaderContactGapSeconds.observe(gapMs / 1000);
    if (gapMs > this.maxGapMs) {
      this.maxGapMs = gapMs;
      m.raft.leaderContactGapMaxSeconds.set(gapMs / 1000);
    }
  }

  /** The transport lost a connection to `peer` (a crashed leader is replaced sooner). */
  peerDisconnected(peer: string): void {
    if (this.closed) return;
    this.raft.reportConnectionClosed(peer);
    this.kick();
  }

  private tick(): void {
    if (this.closed) return;
    this.raft.tick();
    this.checkReadRounds();
    this.sendLeaderMessagesEarly();
    this.kick();
  }

  /**
   * While a write is in flight the next Ready waits for it; a leader's
   * heartbeats need not (see RawNode.takeLeaderHeartbeats). Once a write has
   * taken longer than two heartbeat intervals they go out on their own: a
   * synced write that takes a second on a busy disk must not cost the
   * leadership (measured at 1,000 nodes: followers elected behind 1 s writes).
   */
  private sendLeaderMessagesEarly(): void {
    if (!this.driving || this.persistStartedMs === undefined) return;
    if (this.clock.nowMs() - this.persistStartedMs < 2 * this.opts.raft.heartbeatTicks * this.opts.raft.tickMs) return;
    const msgs = this.raft.takeLeaderHeartbeats();
    if (msgs.length > 0) this.modules.outbox.send(msgs);
  }

  // ---------------------------------------------------------------------
  // The Ready loop
  // ---------------------------------------------------------------------

  private kick(): void {
    if (this.driving || this.closed) return;
    this.driving = true;
    this.driveDone = this.drive();
  }

  /** Callers waiting for the next advance() of the Ready in flight (see compactForNewMember). */
  private advanceWaiters: (() => void)[] = [];

  private wakeAdvanceWaiters(): void {
    const waiters = this.advanceWaiters;
    this.advanceWaiters = [];
    for (const w of waiters) w();
  }

  private async drive(): Promise<void> {
    try {
      // Steps, ticks and proposals arriving while a write is in flight land in
      // the next Ready: that is the group commit.
      while (!this.closed && this.raft.hasReady()) {
        const rd = this.raft.ready();
        const batch = batchOf(rd);
        // What this Ready commits of entries already durable here does not wait for its write: the
        // answer goes out now, one write earlier (its messages still wait, persist before send).
        const early = rd.softState || rd.snapshot ? 0 : durablePrefix(rd.committedEntries, this.raft.raftLog.stableIndex);
        for (let i = 0; i < early; i++) this.applyCommitted(rd.committedEntries[i]!);
        if (!rd.softState) this.confirmReads(rd);
        if (!isEmptyBatch(batch)) {
          const started = performance.now();
          this.persistStartedMs = this.clock.nowMs();
          try {
            await this.modules.storage.persist(batch);
          } finally {
            this.persistStartedMs = undefined;
          }
          this.modules.metrics?.raft.persistSeconds.observe((performance.now() - started) / 1000);
          this.modules.afterPersist?.({ synced: batch.sync, messages: rd.messages.length });
        }
        if (this.closed) return;
        if (rd.messages.length > 0) this.modules.outbox.send(rd.messages);
        if (rd.softState) this.onSoftState(rd.softState);
        if (rd.snapshot) this.installSnapshot(rd.snapshot);
        for (let i = early; i < rd.committedEntries.length; i++) this.applyCommitted(rd.committedEntries[i]!);
        // After applying: a proposal the old leader committed is answered, not failed.
        if (rd.softState) {
          this.failProposalsOfOtherLeaders(rd.softState.leader);
          this.confirmReads(rd);
        }
        this.raft.advance();
        this.wakeAdvanceWaiters();
        this.settleReads();
        this.maybeSnapshot();
        this.updateMetrics();
      }
    } catch (e) {
      this.modules.logger.error('replica stopped: its log store failed', { error: e instanceof Error ? e.message : String(e) });
      this.closed = true;
      this.modules.onFatal?.(e);
    } finally {
      this.driving = false;
      // Whoever waits for an advance learns the cycle ended (and re-checks), also when it failed.
      this.wakeAdvanceWaiters();
    }
    if (!this.closed && this.raft.hasReady()) this.kick();
  }

  /** A Ready's read confirmations and failures; the confirmed ones are answered once their index is applied. */
  private confirmReads(rd: { readonly readStates: readonly ReadState[]; readonly failedReads: readonly FailedRead[] }): void {
    for (const rs of rd.readStates) this.readConfirmed(rs);
    for (const fr of rd.failedReads) this.readFailed(fr);
    this.settleReads();
  }

  private onSoftState(s: SoftState): void {
    if (s.leader) this.lastLeader = s.leader;
    this.modules.logger.info(s.role === 'leader' ? 'became leader' : `became ${s.role}`, {
      role: s.role,
      term: s.term,
      leader: s.leader || null,
      reason: s.reason,
    });
    this.modules.metrics?.raft.leaderChanges.inc();
    for (const w of [...this.leaderWaiters]) w();
    const change: RoleChange = { role: s.role, term: s.term, leader: s.leader };
    for (const l of [...this.roleListeners]) {
      try {
        l(change);
      } catch (e) {
        // A listener's bug must not stop the Ready loop (it would stop the replica).
        this.modules.logger.error('a role-change listener failed', { err: e });
      }
    }
  }

  /**
   * A proposal that went to a leader which is no longer the leader will not
   * be answered by it: fail it now as retryable instead of at its timeout.
   * It may still commit (the new leader may hold it), so the error says the
   * outcome is unknown; the routing commands are idempotent or compare-and-set.
   */
  private failProposalsOfOtherLeaders(leader: string): void {
    for (const [id, p] of this.proposals) {
      if (p.leader === leader) continue;
      this.proposals.delete(id);
      clearTimeout(p.timer);
      p.reject(
        new ClusterError(
          { code: ClusterErrorCode.Unavailable, reason: `leader changed from ${p.leader || 'none'} to ${leader || 'none'} before the write committed`, retryAfterMs: 50 },
          `the leader changed before the write committed; it may still take effect (retry: the routing commands are idempotent or compare-and-set)`,
        ),
      );
    }
  }

  private installSnapshot(s: Snapshot): void {
    this.table = deserializeState(s.data);
    this.appliedIndex = s.meta.index;
    this.appliedSinceSnapshot = 0;
    this.syncPeers();
    this.modules.logger.info('installed snapshot from the leader', { index: s.meta.index, term: s.meta.term });
  }

  private applyCommitted(e: Entry): void {
    const meta = { index: e.index, term: e.term };
    const before = this.table;
    if (e.type === EntryType.Normal) {
      const { requestId, parsed } = decodeProposal(e.data);
      let result: ApplyResult = parsed.ok ? { ok: false, code: 'INTERNAL', message: 'not applied' } : parsed;
      if (parsed.ok) {
        const out = apply(this.table, parsed.command, meta);
        this.table = out.state;
        result = out.result;
      }
      const p = this.proposals.get(requestId);
      if (p) {
        this.proposals.delete(requestId);
        clearTimeout(p.timer);
        p.resolve(result.ok ? { ok: true, index: e.index, changed: result.changed } : { ok: false, index: e.index, code: result.code, message: result.message });
      }
    } else if (e.type === EntryType.ConfChange) {
      const { change } = decodeConfChange(e.data);
      const out = applyMemberChange(this.table, change, meta);
      this.table = out.state;
      this.modules.logger.info('membership change applied', { change: change.type, member: change.node, index: e.index, ok: out.result.ok });
      this.syncPeers();
    }
    this.appliedIndex = e.index;
    this.appliedSinceSnapshot++;
    const waiters = this.entryWaiters.get(e.index);
    if (waiters) {
      this.entryWaiters.delete(e.index);
      for (const w of waiters) w.resolve(w.term === e.term);
    }
    if (this.table.events !== before.events) this.emitEvents(before.events.nextSeq);
  }

  private emitEvents(fromSeq: number): void {
    if (this.eventListeners.size === 0) return;
    for (const ev of this.table.events.items) {
      if (ev.seq < fromSeq) continue;
      for (const l of this.eventListeners) l(ev);
    }
  }

  private maybeSnapshot(): void {
    if (this.appliedSinceSnapshot < this.opts.raft.snapshotEveryEntries) return;
    this.raft.compact(this.appliedIndex, serializeState(this.table));
    this.appliedSinceSnapshot = 0;
    this.modules.logger.debug('snapshot taken', { index: this.appliedIndex });
    this.kick();
  }

  private updateMetrics(): void {
    const m = this.modules.metrics;
    if (!m) return;
    m.raft.term.set(this.raft.currentTerm);
    m.raft.commitIndex.set(this.raft.raftLog.committed);
    m.raft.appliedIndex.set(this.appliedIndex);
    m.raft.isLeader.set(this.raft.currentRole === 'leader' ? 1 : 0);
  }

  /** The transport talks to every member of the table but this one. */
  private syncPeers(): void {
    const peers = new Map<string, { host: string; peerPort: number }>();
    for (const m of Object.values(this.table.members)) {
      if (m.id !== this.opts.id) peers.set(m.id, { host: m.host, peerPort: m.peerPort });
    }
    this.modules.outbox.setPeers(peers);
  }

  // ---------------------------------------------------------------------
  // CoordinatorService
  // ---------------------------------------------------------------------

  status(): ReplicaStatus {
    const table = this.table;
    const status = {
      id: this.opts.id,
      clusterId: this.opts.clusterId,
      role: this.raft.currentRole,
      leader: this.raft.currentLeader,
      term: this.raft.currentTerm,
      commitIndex: this.raft.raftLog.committed,
      appliedIndex: this.appliedIndex,
      startedAtMs: this.startedAtMs,
      version: this.opts.version,
    };
    // Hashing the whole table costs far more than the rest, and most callers only want the role or
    // the id (several times per write under load): hash on first read only, of the table of this call.
    return Object.defineProperty(status, 'stateHash', { enumerable: true, get: () => stateHash(table) }) as ReplicaStatus;
  }

  async read(consistency: Consistency, timeoutMs = this.opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS): Promise<StateRead> {
    this.checkOpen();
    if (consistency === 'stale') {
      return { state: this.table, appliedIndex: this.appliedIndex, consistency, stalenessMs: this.stalenessMs() };
    }
    const id = this.newRequestId();
    const done = new Promise<StateRead>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.reads.delete(id);
        reject(new ClusterError({ code: ClusterErrorCode.NoQuorum, reason: `no majority confirmed the leader within ${timeoutMs} ms` }, `linearizable read not confirmed within ${timeoutMs} ms: no quorum reachable`));
      }, timeoutMs);
      this.reads.set(id, { resolve, reject, timer, index: undefined });
    });
    if (this.reads.size > MAX_PENDING_READS) {
      this.dropRead(id);
      throw new ClusterError({ code: ClusterErrorCode.Overloaded, retryAfterMs: 50 }, `replica ${this.opts.id} has ${MAX_PENDING_READS} linearizable reads waiting; retry shortly`);
    }
    if (this.roundInFlight !== undefined) {
      this.readsForNextRound.push(id);
      return done;
    }
    try {
      this.startReadRound([id]);
    } catch (e) {
      this.dropRead(id);
      throw toClusterError(e, (l) => this.apiAddressOf(l));
    }
    return done;
  }

  /** Asks the core for one read index on behalf of `reads`; throws what the core throws (no leader, …). */
  private startReadRound(reads: readonly string[]): void {
    const round = this.newRequestId();
    this.raft.readIndex(round);
    this.readRounds.set(round, { reads, startedMs: this.clock.nowMs() });
    this.roundInFlight = round;
    this.kick();
  }

  /** The round in flight ended (or stalled): the reads that waited for it start the next one. */
  private startNextReadRound(): void {
    if (this.roundInFlight !== undefined || this.readsForNextRound.length === 0) return;
    const waiting = this.readsForNextRound.filter((id) => this.reads.has(id));
    this.readsForNextRound = [];
    if (waiting.length === 0) return;
    try {
      this.startReadRound(waiting);
    } catch (e) {
      const err = toClusterError(e, (l) => this.apiAddressOf(l));
      for (const id of waiting) {
        const r = this.reads.get(id);
        this.dropRead(id);
        r?.reject(err);
      }
    }
  }

  /**
   * A round whose request or answer was lost would hold every later read
   * back until its timeout: after a while the next round starts anyway (the
   * stalled one may still answer its own reads). Rounds older than any read
   * they could serve are forgotten.
   */
  private checkReadRounds(): void {
    const now = this.clock.nowMs();
    const inFlight = this.roundInFlight === undefined ? undefined : this.readRounds.get(this.roundInFlight);
    if (inFlight && now - inFlight.startedMs > READ_ROUND_STALL_HEARTBEATS * this.opts.raft.heartbeatTicks * this.opts.raft.tickMs) {
      this.roundInFlight = undefined;
      this.startNextReadRound();
    }
    const forgetBeforeMs = now - (this.opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS) - 1_000;
    for (const [id, round] of this.readRounds) {
      if (id !== this.roundInFlight && round.startedMs < forgetBeforeMs) this.readRounds.delete(id);
    }
  }

  /** The round `id` was answered or failed: its reads leave it, and the next round may start. */
  private endReadRound(id: string): readonly string[] {
    const round = this.readRounds.get(id);
    this.readRounds.delete(id);
    if (this.roundInFlight === id) {
      this.roundInFlight = undefined;
      this.startNextReadRound();
    }
    return round?.reads ?? [];
  }

  /**
   * How old this replica's table may be: 0 on the leader; on a follower, the
   * time since it last heard from its leader. With no leader known, the time
   * since it last knew one: since it heard from its last leader, or, for a
   * deposed leader, since a majority last answered it (not its uptime).
   */
  private stalenessMs(): number {
    const now = this.clock.nowMs();
    if (this.raft.currentRole === 'leader') return 0;
    const leader = this.raft.currentLeader || this.lastLeader;
    if (leader === '') return now - this.startedAtMs;
    if (leader !== this.opts.id) return now - (this.lastHeardMs.get(leader) ?? this.startedAtMs);
    const voters = this.raft.status().conf.voters;
    const others = voters.filter((v) => v !== this.opts.id).map((v) => this.lastHeardMs.get(v) ?? this.startedAtMs);
    const needed = Math.floor(voters.length / 2);
    if (needed === 0) return 0;
    return now - (others.sort((a, b) => b - a)[needed - 1] ?? this.startedAtMs);
  }

  private readConfirmed(rs: ReadState): void {
    for (const id of this.endReadRound(rs.requestId)) {
      const r = this.reads.get(id);
      if (r) r.index = rs.index;
    }
  }

  private readFailed(fr: FailedRead): void {
    for (const id of this.endReadRound(fr.requestId)) {
      const r = this.reads.get(id);
      if (!r) continue;
      this.dropRead(id);
      r.reject(new ClusterError({ code: ClusterErrorCode.NoQuorum, reason: fr.reason }, `linearizable read failed: ${fr.reason}`));
    }
  }

  /**
   * Reads whose index is applied are answered from the table as it is when
   * their turn comes (at least that fresh): a batch per turn of the event
   * loop, since one ReadIndex round may answer a thousand lease renewals,
   * and all their continuations at once would hold back Raft's tick.
   */
  private settleReads(): void {
    for (const [id, r] of this.reads) {
      if (r.index !== undefined && r.index <= this.appliedIndex) {
        this.dropRead(id);
        const answer = () => r.resolve({ state: this.table, appliedIndex: this.appliedIndex, consistency: 'linearizable', stalenessMs: 0 });
        // A full queue (more answers waiting than reads may) answers at once rather than never.
        if (!this.answers.push(answer)) answer();
      }
    }
  }

  private dropRead(id: string): void {
    const r = this.reads.get(id);
    if (r) clearTimeout(r.timer);
    this.reads.delete(id);
  }

  async propose(command: Command, timeoutMs = this.opts.proposalTimeoutMs ?? DEFAULT_PROPOSAL_TIMEOUT_MS): Promise<CommandOutcome> {
    this.checkOpen();
    // Validated here and again when applied (a replica of another version may read it).
    const parsed = parseCommand({ ...command, atMs: this.clock.nowMs() });
    if (!parsed.ok) {
      throw new ClusterError({ code: ClusterErrorCode.InvalidInput, issues: [`${parsed.field ?? '(root)'}: ${parsed.message}`] }, `invalid ${command.type} command: ${parsed.message}`);
    }
    const stamped = parsed.command;
    const id = this.newRequestId();
    const done = new Promise<CommandOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.proposals.delete(id);
        reject(
          new ClusterError(
            { code: ClusterErrorCode.Timeout, operation: command.type, timeoutMs },
            `${command.type} was not committed within ${timeoutMs} ms (no quorum, or a leader change); it may still take effect`,
          ),
        );
      }, timeoutMs);
      this.proposals.set(id, { resolve, reject, timer, leader: '' });
    });
    try {
      const r = this.raft.propose(encodeProposal(id, stamped));
      this.proposals.get(id)!.leader = r.kind === 'appended' ? this.opts.id : r.leader;
    } catch (e) {
      const p = this.proposals.get(id);
      if (p) clearTimeout(p.timer);
      this.proposals.delete(id);
      throw toClusterError(e, (l) => this.apiAddressOf(l));
    }
    this.kick();
    return done;
  }

  async members(): Promise<MemberStatus[]> {
    const st = this.raft.status();
    const now = this.clock.nowMs();
    const out: MemberStatus[] = [];
    const fetches: Promise<void>[] = [];
    for (const m of Object.values(this.table.members).sort((a, b) => (a.id < b.id ? -1 : 1))) {
      const pr = st.progress?.get(m.id);
      const isLearner = st.conf.learners.includes(m.id);
      const entry: Mutable<MemberStatus> = {
        id: m.id,
        host: m.host,
        apiPort: m.apiPort,
        peerPort: m.peerPort,
        role: m.id === st.leader ? 'leader' : isLearner ? 'learner' : st.conf.voters.includes(m.id) ? 'follower' : 'unknown',
        term: null,
        commitIndex: null,
        appliedIndex: null,
        matchIndex: pr?.match ?? null,
        lastContactMs: m.id === this.opts.id ? 0 : this.lastHeardMs.has(m.id) ? now - this.lastHeardMs.get(m.id)! : null,
        stateHash: null,
      };
      if (m.id === this.opts.id) {
        const s = this.status();
        Object.assign(entry, { term: s.term, commitIndex: s.commitIndex, appliedIndex: s.appliedIndex, stateHash: s.stateHash });
      } else if (this.modules.fetchStatus) {
        fetches.push(
          this.modules
            .fetchStatus(`${m.host}:${m.apiPort}`, MEMBERS_FETCH_TIMEOUT_MS)
            .then((s) => {
              if (s) Object.assign(entry, { term: s.term, commitIndex: s.commitIndex, appliedIndex: s.appliedIndex, stateHash: s.stateHash });
            })
            .catch(() => undefined),
        );
      }
      out.push(entry);
    }
    await Promise.all(fetches);
    return out;
  }

  async addMember(member: NewMember, timeoutMs = 30_000): Promise<void> {
    this.checkLeader();
    const deadline = this.clock.nowMs() + timeoutMs;
    await this.compactForNewMember();
    const context = encodeMemberContext({ atMs: this.clock.nowMs(), host: member.host, apiPort: member.apiPort, peerPort: member.peerPort });
    // Talk to it from the moment it is a learner, not only once the change commits.
    const peers = new Map<string, { host: string; peerPort: number }>();
    for (const m of Object.values(this.table.members)) if (m.id !== this.opts.id) peers.set(m.id, { host: m.host, peerPort: m.peerPort });
    peers.set(member.id, { host: member.host, peerPort: member.peerPort });
    this.modules.outbox.setPeers(peers);
    await this.changeMembership({ type: 'addLearner', node: member.id, context }, deadline);
    this.modules.logger.info('learner added; waiting for it to catch up', { member: member.id });
    try {
      await this.changeMembership({ type: 'promote', node: member.id, context }, deadline);
    } catch (e) {
      await this.dropLearner(member.id, e);
      throw e;
    }
    this.modules.logger.info('learner promoted to voter', { member: member.id });
  }

  /**
   * A learner that did not catch up in time (or whose promotion failed) is
   * removed again, so a failed `members.add` leaves the membership as it was
   * rather than a learner the operator did not get. Best effort: on a lost
   * leadership the new leader's table still lists it, and `members.remove`
   * takes it out.
   */
  private async dropLearner(id: string, why: unknown): Promise<void> {
    if (this.table.members[id]?.role !== 'learner') return;
    try {
      await this.changeMembership({ type: 'remove', node: id, context: encodeMemberContext({ atMs: this.clock.nowMs() }) }, this.clock.nowMs() + DROP_LEARNER_TIMEOUT_MS);
      this.modules.logger.warn('learner removed again: it was not promoted', { member: id, error: String(why) });
    } catch (e) {
      this.modules.logger.warn('could not remove a learner that was not promoted', { member: id, error: String(e) });
    }
  }

  /**
   * A new member starts with an empty log. It must be filled from a snapshot
   * of this table, never by replaying the log from index 1 over an initial
   * table of its own: that one comes from its own cluster file, which lists
   * the coordinators it is meant to join (not the bootstrap ones) and may
   * differ in settings, so its state would diverge. Compacting up to the
   * applied index first leaves the leader nothing older to send but a snapshot.
   */
  private async compactForNewMember(): Promise<void> {
    if (this.appliedIndex === 0) {
      throw new ClusterError(
        { code: ClusterErrorCode.Unavailable, reason: 'the leader has not applied its first entry yet', retryAfterMs: 100 },
        'the new leader has not applied its first entry yet; retry shortly',
      );
    }
    // Entries answered early (before their Ready's own write completed) count as applied in the core only
    // once that Ready is advanced; the snapshot must be taken at an index both agree on.
    for (let i = 0; i < MAX_ADVANCE_WAITS && this.driving && !this.closed && this.raft.raftLog.applied < this.appliedIndex; i++) {
      await new Promise<void>((resolve) => this.advanceWaiters.push(resolve));
    }
    if (this.raft.raftLog.applied < this.appliedIndex) {
      throw new ClusterError({ code: ClusterErrorCode.Unavailable, reason: 'the log store is busy', retryAfterMs: 100 }, 'could not take a snapshot for the new member now; retry shortly');
    }
    if (this.appliedIndex <= this.raft.raftLog.snapshot.meta.index) return;
    this.raft.compact(this.appliedIndex, serializeState(this.table));
    this.appliedSinceSnapshot = 0;
    this.modules.logger.info('snapshot taken for a new member', { index: this.appliedIndex });
    this.kick();
  }

  async removeMember(id: string, timeoutMs = 10_000): Promise<void> {
    this.checkLeader();
    const context = encodeMemberContext({ atMs: this.clock.nowMs() });
    await this.changeMembership({ type: 'remove', node: id, context }, this.clock.nowMs() + timeoutMs);
    this.modules.logger.info('member removed', { member: id });
  }

  /** Proposes one membership change (retrying while another is in flight or the learner lags) and waits for it to apply. */
  private async changeMembership(change: { type: 'addLearner' | 'promote' | 'remove'; node: string; context: string }, deadlineMs: number): Promise<void> {
    for (;;) {
      this.checkLeader();
      let index: number;
      try {
        index = this.raft.proposeMembershipChange(change);
      } catch (e) {
        const mapped = toClusterError(e, (l) => this.apiAddressOf(l));
        const retry = mapped instanceof ClusterError && mapped.code === ClusterErrorCode.Conflict && this.clock.nowMs() < deadlineMs;
        if (!retry) throw mapped;
        await sleep(20);
        continue;
      }
      const term = this.raft.currentTerm;
      this.kick();
      const applied = await this.waitForEntry(index, term, deadlineMs);
      if (applied) return;
      throw new ClusterError({ code: ClusterErrorCode.Conflict, reason: 'leadership changed' }, `${change.type} ${change.node} was lost in a leader change; retry`);
    }
  }

  private waitForEntry(index: number, term: number, deadlineMs: number): Promise<boolean> {
    if (index <= this.appliedIndex) return Promise.resolve(true);
    return new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new ClusterError({ code: ClusterErrorCode.Timeout, operation: 'membership change', timeoutMs: deadlineMs - this.startedAtMs }, 'membership change not committed in time'));
      }, Math.max(0, deadlineMs - this.clock.nowMs()));
      const list = this.entryWaiters.get(index) ?? [];
      list.push({
        term,
        resolve: (same) => {
          clearTimeout(timer);
          resolve(same);
        },
      });
      this.entryWaiters.set(index, list);
    });
  }

  async transferLeadership(to: string, timeoutMs = 3_000): Promise<void> {
    this.checkOpen();
    if (this.raft.currentLeader === to) return;
    // The leader refuses a target that is not a voter; a follower forwards the request, which the
    // leader then drops silently: refuse it here too rather than time out.
    if (!this.raft.status().conf.voters.includes(to)) {
      throw new ClusterError({ code: ClusterErrorCode.InvalidInput, issues: [`to: ${to} is not a voter`] }, `cannot transfer leadership to ${to}: not a voter`);
    }
    try {
      this.raft.transferLeadership(to);
    } catch (e) {
      throw toClusterError(e, (l) => this.apiAddressOf(l));
    }
    this.kick();
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.raft.currentLeader === to) {
          this.leaderWaiters.delete(check);
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.leaderWaiters.delete(check);
        reject(new ClusterError({ code: ClusterErrorCode.Timeout, operation: 'leadership transfer', timeoutMs }, `${to} did not take over within ${timeoutMs} ms`));
      }, timeoutMs);
      this.leaderWaiters.add(check);
    });
  }

  events(since: number): RoutingEvent[] {
    return this.table.events.items.filter((e) => e.seq > since);
  }

  onEvent(listener: (e: RoutingEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onRoleChange(listener: (c: RoleChange) => void): () => void {
    this.roleListeners.add(listener);
    return () => this.roleListeners.delete(listener);
  }

  apiAddressOf(id: string): string | undefined {
    const m = this.table.members[id];
    return m && Object.hasOwn(this.table.members, id) ? `${m.host}:${m.apiPort}` : undefined;
  }

  /** Stops ticking, fails what is pending, and waits for the write in flight. */
  async close(): Promise<void> {
    if (this.closed) {
      await this.driveDone;
      return;
    }
    this.closed = true;
    if (this.ticker) clearInterval(this.ticker);
    const gone = (): ClusterError => new ClusterError({ code: ClusterErrorCode.Unavailable, reason: 'replica shutting down' }, 'the replica is shutting down');
    for (const p of this.proposals.values()) (clearTimeout(p.timer), p.reject(gone()));
    for (const r of this.reads.values()) (clearTimeout(r.timer), r.reject(gone()));
    this.proposals.clear();
    this.reads.clear();
    this.readRounds.clear();
    this.readsForNextRound = [];
    this.roundInFlight = undefined;
    await this.driveDone;
  }

  // ---------------------------------------------------------------------

  private newRequestId(): string {
    return `${this.requestPrefix}.${(this.nextRequest++).toString(36)}`;
  }

  private checkOpen(): void {
    if (this.closed) throw new ClusterError({ code: ClusterErrorCode.Unavailable, reason: 'replica shutting down' }, 'the replica is shutting down');
  }

  private checkLeader(): void {
    this.checkOpen();
    if (this.raft.currentRole !== 'leader') {
      const leader = this.raft.currentLeader;
      throw notLeaderError({ leader, term: this.raft.currentTerm }, 'membership changes', leader ? this.apiAddressOf(leader) : undefined);
    }
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
