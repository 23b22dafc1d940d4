import { applyConfChange, decodeConfChange, encodeConfChange } from './confchange.js';
import { RaftError, RaftErrorCode } from './errors.js';
import { RaftLog } from './log.js';
import { Progress, quorumIndex, voteResult } from './progress.js';
import type { Rng } from './rng.js';
import {
  EntryType,
  NONE,
  type AppendRequest,
  type AppendResponse,
  type ConfChange,
  type ConfState,
  type Entry,
  type FailedRead,
  type HardState,
  type HeartbeatRequest,
  type InitialState,
  type Message,
  type MemberId,
  type PeerProgress,
  type ReadState,
  type Ready,
  type RaftRole,
  type Snapshot,
  type SnapshotRequest,
  type SoftState,
  type Status,
  type VoteRequest,
} from './types.js';

export interface RaftOptions {
  readonly id: MemberId;
  /** Election timeout E in ticks; each wait is drawn from [E, 2E). */
  readonly electionTicks: number;
  /** Leader heartbeat interval in ticks; must be < electionTicks. */
  readonly heartbeatTicks: number;
  /** PreVote: ask for votes before bumping the term (default on). */
  readonly preVote?: boolean;
  /** CheckQuorum: a leader not hearing from a majority in E ticks steps down (default on). */
  readonly checkQuorum?: boolean;
  /** Appends in flight per follower in replicate state (flow-control window). */
  readonly maxInflightMsgs?: number;
  /** Upper bound on the entry bytes in one append message (one entry always fits). */
  readonly maxSizePerMsgBytes?: number;
  /** Upper bound on committed entry bytes handed out in one Ready. */
  readonly maxCommittedSizePerReadyBytes?: number;
  /** Proposals beyond this many uncommitted entries are refused with Overloaded. */
  readonly maxUncommittedEntries?: number;
  /** Pending ReadIndex requests beyond this are refused with Overloaded. */
  readonly maxPendingReads?: number;
  /**
   * After the replica reports that the leader's connection closed, wait D
   * ticks plus this replica's turn (see earlyCampaignDelay; unless the
   * leader is heard again) and start a PreVote. Default D = heartbeatTicks.
   */
  readonly leaderLossDelayTicks?: number;
  /** A leader whose Ready has not been advanced (persisted) for this many ticks steps down. Default electionTicks. */
  readonly persistStallTicks?: number;
  /**
   * The configuration to use while neither snapshot nor log holds one: the
   * initial members of a bootstrapped cluster. A replica that joins an
   * existing cluster passes none and learns it from the leader.
   */
  readonly initialConf?: ConfState;
  /** Index the application's state machine already reflects (default: the snapshot's). */
  readonly applied?: number;
}

export interface RaftModules {
  /** Source of election jitter; seeded in simulation. */
  readonly rng: Rng;
  /** Durable state loaded on start; omitted for a fresh replica. */
  readonly initial?: InitialState;
}

export type ProposeResult =
  | { readonly kind: 'appended'; readonly index: number; readonly term: number }
  | { readonly kind: 'forwarded'; readonly leader: MemberId };

type CampaignType = 'preElection' | 'election';

interface PendingRead {
  readonly requestId: string;
  readonly from: MemberId;
  readonly index: number;
  readonly seq: number;
}

interface InFlight {
  readonly lastEntryIndex: number | undefined;
  readonly snapshotIndex: number | undefined;
  readonly appliedTo: number | undefined;
}

const EMPTY = new Uint8Array(0);
const EMPTY_CONF: ConfState = { voters: [], learners: [] };

/**
 * The Raft state machine. It only computes: inputs are tick(), step() and
 * the propose/read/transfer/membership calls; outputs come out of ready().
 * Each role has its own step function; role changes go through become*().
 */
export class RawNode {
  readonly id: MemberId;
  private readonly electionTicks: number;
  private readonly heartbeatTicks: number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly maxInflight: number;
  private readonly maxSizePerMsg: number;
  private readonly maxCommittedPerReady: number;
  private readonly maxUncommitted: number;
  private readonly maxPendingReads: number;
  private readonly leaderLossDelay: number;
  private readonly persistStallTicks: number;
  private readonly rng: Rng;

  // ---- persistent (reported through Ready.hardState) ----
  /** Latest term seen; never decreases. */
  protected term = 0;
  /** Vote cast in `term`, or NONE. */
  protected vote: MemberId = NONE;
  protected readonly log: RaftLog;

  // ---- volatile ----
  protected role: RaftRole = 'follower';
  protected lead: MemberId = NONE;
  private reason = 'started';
  /** Configuration at the snapshot; confHistory holds the changes in the log after it, ascending. */
  private baseConf: ConfState;
  private confHistory: { index: number; conf: ConfState }[] = [];
  private conf: ConfState;
  /** Leader only: one entry per member other than this replica. */
  private readonly progress = new Map<MemberId, Progress>();
  private readonly votes = new Map<MemberId, boolean>();
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private leadTransferee: MemberId = NONE;
  private transferElapsed = 0;
  /** Leader only: index of the latest membership change that may be uncommitted. */
  private pendingConfIndex = 0;
  /** Follower only: the leader's connection closed and it has not been heard since. */
  private leaderConnClosed = false;
  /** Ticks until the fast PreVote after leader loss; -1 when not armed. */
  private leaderLossRemaining = -1;
  /** Follower only: the leader whose connection closed, until a leader is heard again (NONE otherwise). */
  private lostLeader: MemberId = NONE;

  // ---- ReadIndex ----
  private readSeq = 0;
  private readonly ackedSeq = new Map<MemberId, number>();
  private pendingReads: PendingRead[] = [];
  /** Reads that arrived before this leader committed an entry of its term. */
  private readsAwaitingCommit: { requestId: string; from: MemberId }[] = [];
  /** Follower only: reads forwarded to the leader, by request id. */
  private readonly forwardedReads = new Map<string, MemberId>();

  // ---- output, drained by ready() ----
  private msgs: Message[] = [];
  private readStates: ReadState[] = [];
  private failedReads: FailedRead[] = [];
  private needBcastAppend = false;
  private needBcastHeartbeat = false;
  private pendingCompaction: Snapshot | undefined;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private inFlight: InFlight | undefined;
  private inFlightTicks = 0;

  constructor(opts: RaftOptions, modules: RaftModules) {
    if (!(opts.heartbeatTicks >= 1 && opts.electionTicks > opts.heartbeatTicks)) {
      throw new RaftError(RaftErrorCode.InvalidRequest, 'electionTicks must be greater than heartbeatTicks ≥ 1');
    }
    if (opts.id === NONE) throw new RaftError(RaftErrorCode.InvalidRequest, 'replica id must not be empty');
    this.id = opts.id;
    this.electionTicks = opts.electionTicks;
    this.heartbeatTicks = opts.heartbeatTicks;
    this.preVote = opts.preVote ?? true;
    this.checkQuorum = opts.checkQuorum ?? true;
    this.maxInflight = opts.maxInflightMsgs ?? 256;
    this.maxSizePerMsg = opts.maxSizePerMsgBytes ?? 1024 * 1024;
    this.maxCommittedPerReady = opts.maxCommittedSizePerReadyBytes ?? 8 * 1024 * 1024;
    this.maxUncommitted = opts.maxUncommittedEntries ?? 100_000;
    this.maxPendingReads = opts.maxPendingReads ?? 10_000;
    this.leaderLossDelay = opts.leaderLossDelayTicks ?? opts.heartbeatTicks;
    this.persistStallTicks = opts.persistStallTicks ?? opts.electionTicks;
    this.rng = modules.rng;

    const initial = modules.initial;
    // Copied: the caller's arrays must not be able to change our configuration later.
    const bootstrap: ConfState = opts.initialConf
      ? { voters: [...opts.initialConf.voters], learners: [...opts.initialConf.learners] }
      : EMPTY_CONF;
    const snapshot: Snapshot = initial?.snapshot ?? { meta: { index: 0, term: 0, conf: bootstrap }, data: EMPTY };
    const hs = initial?.hardState ?? { term: 0, vote: NONE, commit: 0 };
    this.log = new RaftLog(snapshot, initial?.entries ?? [], hs.commit, opts.applied ?? snapshot.meta.index);
    if (hs.term < snapshot.meta.term) {
      throw new RaftError(RaftErrorCode.CorruptState, `hard state term ${hs.term} is older than the snapshot's term ${snapshot.meta.term}`);
    }
    this.term = hs.term;
    this.vote = hs.vote;
    this.baseConf = snapshot.meta.conf;
    this.conf = this.baseConf;
    for (const e of initial?.entries ?? []) this.recordConf(e);
    this.resetRandomizedElectionTimeout();
    this.prevSoft = this.softState();
    this.prevHard = this.hardStateToPersist();
  }

  // =====================================================================
  // Inputs
  // =====================================================================

  /** Advances logical time by one tick. */
  tick(): void {
    if (this.inFlight) this.inFlightTicks++;
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  /** Feeds a message received from a peer. Messages not addressed to this replica are ignored. */
  step(m: Message): void {
    if (m.to !== this.id) return;
    if (m.term === 0) {
      // Term-less forwards (proposals, reads, transfer requests) skip the term rules.
      this.stepRole(m);
      return;
    }
    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        if (!m.transfer && this.inLease()) {
          // We hear from a live leader: neither vote nor let this disturb our term.
          return;
        }
      }
      if (m.type === 'preVote') {
        // A PreVote never changes our term.
      } else if (m.type === 'preVoteResp' && !m.reject) {
        // A granted PreVote carries the term we are about to campaign in.
      } else {
        const leader = m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap' ? m.from : NONE;
        this.becomeFollower(m.term, leader, `${m.type} from ${m.from} carries higher term ${m.term}`);
      }
    } else if (m.term < this.term) {
      if (m.type === 'heartbeat' || m.type === 'app') {
        // Tell a stale leader about the newer term so that it steps down, as
        // the paper's answer to a stale AppendEntries does. Without it, a
        // replica whose term rose while it was cut off, and whose own old
        // configuration names only members gone since, would never reach the
        // others: its vote requests go to the gone members, and it would
        // ignore the leader for ever (with PreVote its followers' terms no
        // longer tell the leader either).
        this.send({ type: 'appResp', to: m.from, term: this.term, reject: false, index: 0, hintIndex: 0, hintTerm: 0 });
      } else if (m.type === 'preVote') {
        this.send({ type: 'preVoteResp', to: m.from, term: this.term, reject: true });
      }
      return;
    }
    if (m.type === 'vote' || m.type === 'preVote') {
      this.handleVoteRequest(m);
      return;
    }
    this.stepRole(m);
  }

  /**
   * Proposes an application command. On the leader it is appended at once;
   * on a follower it is forwarded to the known leader. Throws RaftError
   * (NoLeader, TransferInProgress, Overloaded) when it cannot be taken.
   */
  propose(data: Uint8Array): ProposeResult {
    if (this.role === 'leader') {
      this.checkCanAppend();
      const index = this.appendAsLeader([{ type: EntryType.Normal, data }]);
      return { kind: 'appended', index, term: this.term };
    }
    if (this.role === 'follower' && this.lead !== NONE) {
      const last = this.msgs[this.msgs.length - 1];
      if (last?.type === 'prop' && last.to === this.lead) {
        (last.entries as { data: Uint8Array }[]).push({ data });
      } else {
        this.send({ type: 'prop', to: this.lead, term: 0, entries: [{ data }] });
      }
      return { kind: 'forwarded', leader: this.lead };
    }
    throw new RaftError(RaftErrorCode.NoLeader, `replica ${this.id} knows no leader in term ${this.term}; retry later`, {
      leader: NONE,
      term: this.term,
    });
  }

  /**
   * Starts a linearizable read: once a majority confirms this leader, the
   * read completes through Ready.readStates with the index to wait for. On
   * a follower the request is forwarded to the leader.
   */
  readIndex(requestId: string): void {
    if (this.role === 'leader') {
      if (!this.handleReadIndex(requestId, this.id)) {
        throw new RaftError(RaftErrorCode.Overloaded, `too many pending reads on ${this.id}`, { leader: this.id, term: this.term });
      }
      return;
    }
    if (this.role === 'follower' && this.lead !== NONE) {
      if (this.forwardedReads.size >= this.maxPendingReads) {
        throw new RaftError(RaftErrorCode.Overloaded, `too many reads forwarded from ${this.id}`, { leader: this.lead, term: this.term });
      }
      this.forwardedReads.set(requestId, this.lead);
      this.send({ type: 'readIndex', to: this.lead, term: 0, requestId });
      return;
    }
    throw new RaftError(RaftErrorCode.NoLeader, `replica ${this.id} knows no leader in term ${this.term}`, { leader: NONE, term: this.term });
  }

  /**
   * Hands leadership to `to`: the leader brings it up to date, then tells it
   * to campaign at once; it gives up after an election timeout. Proposals are
   * refused meanwhile. On a follower the request is forwarded to the leader.
   */
  transferLeadership(to: MemberId): void {
    if (this.role === 'leader') {
      this.handleTransfer(to, true);
      return;
    }
    if (this.role === 'follower' && this.lead !== NONE) {
      this.send({ type: 'transferLeader', to: this.lead, term: 0, target: to });
      return;
    }
    throw new RaftError(RaftErrorCode.NoLeader, `replica ${this.id} knows no leader`, { leader: NONE, term: this.term });
  }

  /**
   * Proposes one membership change (leader only). The new configuration is
   * in force as soon as the entry is appended. Returns the entry's index.
   */
  proposeMembershipChange(change: ConfChange): number {
    if (this.role !== 'leader') {
      throw new RaftError(RaftErrorCode.NotLeader, `membership changes go to the leader (${this.lead || 'unknown'})`, {
        leader: this.lead,
        term: this.term,
      });
    }
    this.checkCanAppend();
    if (this.pendingConfIndex > this.log.committed) {
      throw new RaftError(
        RaftErrorCode.ConfChangeInProgress,
        `membership change at index ${this.pendingConfIndex} is not committed yet (commit ${this.log.committed}); one change at a time`,
        { leader: this.id, term: this.term },
      );
    }
    const conf = applyConfChange(this.conf, change);
    if (change.type === 'promote') {
      const pr = this.progress.get(change.node);
      const match = pr?.match ?? 0;
      if (!pr || match < this.log.committed) {
        throw new RaftError(
          RaftErrorCode.LearnerNotCaughtUp,
          `learner ${change.node} has index ${match}, behind the commit index ${this.log.committed}`,
          { leader: this.id, term: this.term, match, commit: this.log.committed },
        );
      }
    }
    const index = this.appendAsLeader([{ type: EntryType.ConfChange, data: encodeConfChange({ change, conf }) }]);
    this.pendingConfIndex = index;
    return index;
  }

  /**
   * The application has a snapshot of its state machine at `index` (≤ the
   * applied index): keep it and drop the log behind it.
   */
  compact(index: number, data: Uint8Array): void {
    if (index <= this.log.snapshot.meta.index) return;
    if (index > this.log.applied) {
      throw new RaftError(RaftErrorCode.InvalidRequest, `cannot compact to ${index}: only ${this.log.applied} is applied`);
    }
    const term = this.log.term(index)!;
    const conf = this.confAt(index);
    this.pendingCompaction = this.log.compact({ index, term, conf }, data);
    this.baseConf = conf;
    this.confHistory = this.confHistory.filter((c) => c.index > index);
  }

  /**
   * The replica's connection to `peer` closed. A follower that loses its
   * leader this way starts a PreVote after a short random delay instead of
   * a whole election timeout (only with PreVote on); a leader stops
   * streaming to that peer.
   */
  reportConnectionClosed(peer: MemberId): void {
    // Without PreVote an early campaign would bump terms on a mere broken link,
    // so the fast path exists only with PreVote.
    if (this.role === 'follower' && this.preVote && peer === this.lead && peer !== NONE) {
      this.leaderConnClosed = true;
      this.lostLeader = peer;
      if (this.leaderLossRemaining < 0) this.leaderLossRemaining = this.earlyCampaignDelay();
    } else if (this.role === 'leader') {
      const pr = this.progress.get(peer);
      if (pr?.state === 'replicate') pr.becomeProbe();
    }
  }

  // =====================================================================
  // Ready / advance
  // =====================================================================

  hasReady(): boolean {
    if (this.inFlight) return false;
    const log = this.log;
    return (
      this.msgs.length > 0 ||
      this.needBcastAppend ||
      this.needBcastHeartbeat ||
      log.unstableFrom <= log.lastIndex() ||
      log.pendingSnapshot !== undefined ||
      log.committed > log.applied ||
      this.readStates.length > 0 ||
      this.failedReads.length > 0 ||
      this.pendingCompaction !== undefined ||
      !sameSoft(this.softState(), this.prevSoft) ||
      !sameHard(this.hardStateToPersist(), this.prevHard)
    );
  }

  /** The next batch of work (see Ready for the contract). */
  ready(): Ready {
    if (this.inFlight) {
      throw new RaftError(RaftErrorCode.ContractViolation, 'ready() called again before advance()');
    }
    if (this.role === 'leader') {
      if (this.needBcastAppend) this.bcastAppend();
      if (this.needBcastHeartbeat) this.bcastHeartbeat();
    }
    this.needBcastAppend = false;
    this.needBcastHeartbeat = false;

    const log = this.log;
    const soft = this.softState();
    const hard = this.hardStateToPersist();
    const softChanged = !sameSoft(soft, this.prevSoft);
    const hardChanged = !sameHard(hard, this.prevHard);
    const snapshot = log.pendingSnapshot;
    log.pendingSnapshot = undefined;
    const entries = log.unstableEntries();
    log.unstableFrom = log.lastIndex() + 1;
    const committedEntries = log.nextCommitted(this.maxCommittedPerReady);
    const compaction = this.pendingCompaction;
    this.pendingCompaction = undefined;

    const rd: Ready = {
      softState: softChanged ? soft : undefined,
      hardState: hardChanged ? hard : undefined,
      snapshot,
      entries,
      compaction,
      mustSync:
        entries.length > 0 ||
        snapshot !== undefined ||
        compaction !== undefined ||
        (hardChanged && (hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote)),
      messages: this.msgs,
      committedEntries,
      readStates: this.readStates,
      failedReads: this.failedReads,
    };
    this.prevSoft = soft;
    this.prevHard = hard;
    this.msgs = [];
    this.readStates = [];
    this.failedReads = [];
    this.inFlight = {
      lastEntryIndex: entries.length > 0 ? entries[entries.length - 1]!.index : undefined,
      snapshotIndex: snapshot?.meta.index,
      appliedTo: committedEntries.length > 0 ? committedEntries[committedEntries.length - 1]!.index : snapshot?.meta.index,
    };
    return rd;
  }

  /**
   * Leader only, while a Ready is in flight (its write not yet done): the
   * heartbeats made since. They carry no entries and need nothing persisted
   * here, so a slow disk delays the leader's commits, not its heartbeats
   * (followers would elect another leader). Everything else (appends, and
   * anything a leader that stepped down must answer after its write) stays
   * for the next Ready. Empty in any other case.
   */
  takeLeaderHeartbeats(): Message[] {
    if (!this.inFlight || this.role !== 'leader') return [];
    if (this.needBcastHeartbeat) this.bcastHeartbeat();
    this.needBcastHeartbeat = false;
    const out = this.msgs.filter((m) => m.type === 'heartbeat');
    if (out.length > 0) this.msgs = this.msgs.filter((m) => m.type !== 'heartbeat');
    return out;
  }

  /** The last Ready is persisted, sent and applied. */
  advance(): void {
    const f = this.inFlight;
    if (!f) throw new RaftError(RaftErrorCode.ContractViolation, 'advance() without a Ready in flight');
    this.inFlight = undefined;
    this.inFlightTicks = 0;
    const log = this.log;
    if (f.snapshotIndex !== undefined) log.stableIndex = Math.max(log.stableIndex, Math.min(f.snapshotIndex, log.lastIndex()));
    if (f.lastEntryIndex !== undefined) {
      // Entries of that batch cut off meanwhile (unstableFrom moved below them) are not stable.
      log.stableIndex = Math.max(log.stableIndex, Math.min(f.lastEntryIndex, log.unstableFrom - 1));
    }
    if (f.appliedTo !== undefined) log.applied = Math.max(log.applied, Math.min(f.appliedTo, log.committed));
    if (this.role === 'leader') {
      // The leader counts itself only for what it has synced.
      this.maybeCommit();
    }
  }

  // =====================================================================
  // Observation
  // =====================================================================

  status(): Status {
    let progress: Map<MemberId, PeerProgress> | undefined;
    if (this.role === 'leader') {
      progress = new Map();
      progress.set(this.id, {
        match: this.log.stableIndex,
        next: this.log.lastIndex() + 1,
        state: 'replicate',
        learner: !this.conf.voters.includes(this.id),
        recentActive: true,
      });
      for (const [id, pr] of this.progress) progress.set(id, pr.view());
    }
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      vote: this.vote,
      leader: this.lead,
      commit: this.log.committed,
      applied: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      conf: this.conf,
      progress,
      leadTransferee: this.leadTransferee,
    };
  }

  /** Role, term and leader without building a whole Status (cheap, for checkers). */
  get currentRole(): RaftRole {
    return this.role;
  }

  get currentTerm(): number {
    return this.term;
  }

  get currentLeader(): MemberId {
    return this.lead;
  }

  /** Read-only view of the in-memory log (for checkers and tests). */
  get raftLog(): Pick<RaftLog, 'term' | 'entry' | 'firstIndex' | 'lastIndex' | 'snapshot' | 'committed' | 'applied' | 'stableIndex'> {
    return this.log;
  }

  // =====================================================================
  // Overridable decisions (the simulation's broken variants replace these)
  // =====================================================================

  /** The hard state a Ready asks to persist. */
  protected hardStateToPersist(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  /** §5.4.1: grant a vote only to a candidate whose log is at least as up to date. */
  protected candidateLogOk(lastIndex: number, lastTerm: number): boolean {
    return this.log.isUpToDate(lastIndex, lastTerm);
  }

  /** §5.4.2: only an entry of the leader's current term is committed by counting replicas. */
  protected canCommitByCounting(index: number): boolean {
    return this.log.term(index) === this.term;
  }

  // =====================================================================
  // Role changes
  // =====================================================================

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.setLeader(NONE);
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.votes.clear();
    this.progress.clear();
    this.leaderConnClosed = false;
    this.leaderLossRemaining = -1;
  }

  protected becomeFollower(term: number, leader: MemberId, reason: string): void {
    this.failLeaderReads(reason);
    this.reset(term);
    this.role = 'follower';
    this.setLeader(leader);
    this.reason = reason;
  }

  private becomePreCandidate(reason: string): void {
    this.failLeaderReads(reason);
    this.role = 'preCandidate';
    this.votes.clear();
    this.progress.clear();
    this.setLeader(NONE);
    this.electionElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.reason = reason;
  }

  private becomeCandidate(reason: string): void {
    this.failLeaderReads(reason);
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
    this.reason = reason;
  }

  private becomeLeader(reason: string): void {
    this.reset(this.term);
    this.role = 'leader';
    this.lead = this.id;
    this.reason = reason;
    this.syncProgress();
    // Any membership change still in the log may be uncommitted.
    this.pendingConfIndex = this.log.lastIndex();
    this.readSeq = 0;
    this.ackedSeq.clear();
    this.pendingReads = [];
    this.readsAwaitingCommit = [];
    this.appendAsLeader([{ type: EntryType.Noop, data: EMPTY }]);
  }

  private campaign(type: CampaignType, transfer: boolean, reason: string): void {
    let voteTerm: number;
    if (type === 'preElection') {
      this.becomePreCandidate(reason);
      voteTerm = this.term + 1;
    } else {
      this.becomeCandidate(reason);
      voteTerm = this.term;
    }
    if (this.poll(this.id, true)) return;
    const msgType = type === 'preElection' ? 'preVote' : 'vote';
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const v of this.conf.voters) {
      if (v === this.id) continue;
      this.send({ type: msgType, to: v, term: voteTerm, lastIndex, lastTerm, transfer });
    }
  }

  /** Records a vote; returns true when the election was decided by it. */
  private poll(from: MemberId, granted: boolean): boolean {
    this.votes.set(from, granted);
    const result = voteResult(this.conf.voters, this.votes);
    if (result === 'won') {
      if (this.role === 'preCandidate') this.campaign('election', false, `won PreVote for term ${this.term + 1}`);
      else this.becomeLeader(`won election in term ${this.term}`);
      return true;
    }
    if (result === 'lost') {
      const lostElection = this.role === 'candidate';
      this.becomeFollower(this.term, NONE, `lost ${lostElection ? 'election' : 'PreVote'} in term ${this.term}`);
      // A real election is lost after a won PreVote, so no leader was known to a
      // majority: most likely a split vote (two followers whose leader died
      // campaigned at once). Waiting out a whole election timeout would double
      // the failover time; retry through PreVote after a short random delay
      // instead. Only liveness is at stake: PreVote stops the retry as soon as
      // a leader exists, and a lost PreVote does not retry early.
      if (lostElection && this.preVote) {
        this.leaderConnClosed = true;
        this.leaderLossRemaining = this.earlyCampaignDelay();
      }
      return true;
    }
    return false;
  }

  /**
   * Ticks before an early PreVote (the leader's connection closed, or a
   * split vote). The voters that may campaign take turns: each has its own
   * window of ⌈D/2⌉ ticks, the windows two ticks apart, in id order rotated
   * by the term (so no replica is always first), without the lost leader.
   * Two followers that lose the same leader at the same moment then never
   * campaign in the same tick. Drawn from one shared window [D, 2D), two
   * delays fall on the same tick about one time in five (D = 5): the vote
   * splits and, the dead leader's vote never coming, both candidates wait
   * out a whole election timeout. The gap of two ticks covers the phase
   * between two processes' tick timers.
   */
  private earlyCampaignDelay(): number {
    const width = Math.ceil(this.leaderLossDelay / 2);
    const turns = this.conf.voters.filter((v) => v !== this.lostLeader).sort();
    const at = turns.indexOf(this.id);
    const turn = at < 0 ? 0 : (at + this.term) % turns.length;
    return this.leaderLossDelay + turn * (width + 1) + this.rng.int(width);
  }

  private hup(reason: string): void {
    if (this.role === 'leader' || !this.promotable()) return;
    this.campaign(this.preVote ? 'preElection' : 'election', false, reason);
  }

  // =====================================================================
  // Ticks
  // =====================================================================

  private tickElection(): void {
    this.electionElapsed++;
    if (this.leaderLossRemaining > 0 && --this.leaderLossRemaining === 0) {
      this.leaderLossRemaining = -1;
      if (this.role === 'follower' && this.leaderConnClosed) {
        const gone = this.lead;
        this.setLeader(NONE);
        this.leaderConnClosed = true;
        this.hup(gone === NONE ? 'retrying a lost election (split vote) early' : `connection to leader ${gone} closed`);
        return;
      }
    }
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(this.role === 'follower' ? `no leader heard for ${this.randomizedElectionTimeout} ticks` : 'election timed out');
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.inFlight && this.inFlightTicks >= this.persistStallTicks) {
      this.becomeFollower(this.term, NONE, `log store stalled: a write has not completed for ${this.inFlightTicks} ticks`);
      return;
    }
    if (this.electionElapsed >= this.electionTicks) {
      this.electionElapsed = 0;
      if (this.checkQuorum) {
        if (!this.quorumActive()) {
          this.becomeFollower(this.term, NONE, `CheckQuorum: no majority heard within ${this.electionTicks} ticks`);
          return;
        }
        for (const pr of this.progress.values()) pr.recentActive = false;
      }
    }
    if (this.leadTransferee !== NONE && ++this.transferElapsed >= this.electionTicks) {
      this.abortLeaderTransfer();
    }
    for (const [id, pr] of this.progress) {
      if (pr.state === 'snapshot' && ++pr.snapshotElapsed > this.electionTicks) {
        // The snapshot (or its answer) was lost: probe again, which resends it.
        pr.becomeProbe();
        this.sendAppend(id, true);
      }
    }
    if (this.heartbeatElapsed >= this.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
    for (const [id, pr] of this.progress) {
      // Only what the follower can apply: one that lacks entries learns their commit when it gets them.
      if (pr.sentCommit < Math.min(pr.match, this.log.committed)) this.sendAppend(id, true);
    }
  }

  // =====================================================================
  // Role step functions
  // =====================================================================

  private stepRole(m: Message): void {
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
      default:
        this.stepCandidate(m);
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'prop':
        // A forwarded proposal is dropped while it could not be taken; the proposer retries.
        if (this.leadTransferee !== NONE || this.log.lastIndex() - this.log.committed >= this.maxUncommitted) return;
        this.appendAsLeader(m.entries.map((e) => ({ type: EntryType.Normal, data: e.data })));
        return;
      case 'readIndex':
        if (!this.handleReadIndex(m.requestId, m.from)) this.rejectRead(m.requestId, m.from, 'too many pending reads');
        return;
      case 'transferLeader':
        this.handleTransfer(m.target, false);
        return;
      default:
        break;
    }
    const pr = this.progress.get(m.from);
    if (!pr) return;
    switch (m.type) {
      case 'appResp':
        pr.recentActive = true;
        this.handleAppendResponse(m, pr);
        return;
      case 'heartbeatResp': {
        pr.recentActive = true;
        pr.probeSent = false;
        // Appends in the window may have been lost: free one slot so that the
        // next append goes out; a gap makes the follower reject it, and the
        // rejection sends us back to probing from its real match.
        if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.match < this.log.lastIndex()) this.sendAppend(m.from, true);
        if (m.readSeq > (this.ackedSeq.get(m.from) ?? 0)) {
          this.ackedSeq.set(m.from, m.readSeq);
          this.processReads();
        }
        return;
      }
      default:
        return;
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'app':
        this.becomeFollower(this.term, m.from, `${m.from} leads term ${this.term}`);
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.becomeFollower(this.term, m.from, `${m.from} leads term ${this.term}`);
        this.handleHeartbeat(m);
        return;
      case 'snap':
        this.becomeFollower(this.term, m.from, `${m.from} leads term ${this.term}`);
        this.handleSnapshot(m);
        return;
      case 'preVoteResp':
        if (this.role === 'preCandidate') this.poll(m.from, !m.reject);
        return;
      case 'voteResp':
        if (this.role === 'candidate') this.poll(m.from, !m.reject);
        return;
      case 'readIndex':
        this.rejectRead(m.requestId, m.from, `${this.id} is not the leader`);
        return;
      default:
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'app':
        this.heardFromLeader(m.from);
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.heardFromLeader(m.from);
        this.handleHeartbeat(m);
        return;
      case 'snap':
        this.heardFromLeader(m.from);
        this.handleSnapshot(m);
        return;
      case 'timeoutNow':
        if (this.promotable()) this.campaign('election', true, `leadership transfer from ${m.from}`);
        return;
      case 'readIndex':
        // Only the replica that took the read forwards it; this one is not the leader.
        this.rejectRead(m.requestId, m.from, `${this.id} is not the leader`);
        return;
      case 'readIndexResp': {
        if (!this.forwardedReads.delete(m.requestId)) return;
        if (m.reject) this.failedReads.push({ requestId: m.requestId, reason: `leader ${m.from} refused the read` });
        else this.readStates.push({ requestId: m.requestId, index: m.index });
        return;
      }
      default:
        // Forwarded proposals and transfer requests that reach a follower are dropped:
        // only the replica that took a request forwards it, so nothing loops.
        return;
    }
  }

  // =====================================================================
  // Message handlers
  // =====================================================================

  private handleVoteRequest(m: VoteRequest): void {
    const respType = m.type === 'vote' ? 'voteResp' : 'preVoteResp';
    const canVote =
      this.vote === m.from || (this.vote === NONE && this.lead === NONE) || (m.type === 'preVote' && m.term > this.term);
    if (canVote && this.candidateLogOk(m.lastIndex, m.lastTerm)) {
      this.send({ type: respType, to: m.from, term: m.term, reject: false });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: respType, to: m.from, term: this.term, reject: true });
    }
  }

  private handleAppend(m: AppendRequest): void {
    const log = this.log;
    if (m.prevIndex < log.committed) {
      this.send({ type: 'appResp', to: m.from, term: this.term, reject: false, index: log.committed, hintIndex: 0, hintTerm: 0 });
      return;
    }
    if (log.matchTerm(m.prevIndex, m.prevTerm)) {
      const lastNew = m.prevIndex + m.entries.length;
      const conflict = log.findConflict(m.entries);
      if (conflict !== 0) this.appendToLog(m.entries.slice(conflict - m.prevIndex - 1));
      // Only what this append verified may be committed here.
      log.commitTo(Math.min(m.commit, lastNew));
      this.send({ type: 'appResp', to: m.from, term: this.term, reject: false, index: lastNew, hintIndex: 0, hintTerm: 0 });
      return;
    }
    const hint = log.findConflictByTerm(Math.min(m.prevIndex, log.lastIndex()), m.prevTerm);
    this.send({
      type: 'appResp',
      to: m.from,
      term: this.term,
      reject: true,
      index: m.prevIndex,
      hintIndex: hint.index,
      hintTerm: hint.term,
    });
  }

  private handleHeartbeat(m: HeartbeatRequest): void {
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send({ type: 'heartbeatResp', to: m.from, term: this.term, readSeq: m.readSeq });
  }

  private handleSnapshot(m: SnapshotRequest): void {
    const s = m.snapshot;
    const log = this.log;
    let index = log.committed;
    if (s.meta.index > log.committed) {
      if (log.matchTerm(s.meta.index, s.meta.term)) {
        // We already hold the entries it covers: just learn that they are committed.
        log.commitTo(s.meta.index);
        index = s.meta.index;
      } else {
        log.restore(s);
        this.baseConf = s.meta.conf;
        this.confHistory = [];
        this.conf = this.baseConf;
        this.pendingCompaction = undefined;
        index = s.meta.index;
      }
    }
    // An older snapshot than what we have is ignored; answering our commit lets the leader move on.
    this.send({ type: 'appResp', to: m.from, term: this.term, reject: false, index, hintIndex: 0, hintTerm: 0 });
  }

  private handleAppendResponse(m: AppendResponse, pr: Progress): void {
    if (m.reject) {
      let next = m.hintIndex;
      if (m.hintTerm > 0) next = this.log.findConflictByTerm(m.hintIndex, m.hintTerm).index;
      if (pr.maybeDecrTo(m.index, next)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from, true);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    // A probe answered with exactly the known match also proves where the logs meet.
    const probeConfirmed = pr.state === 'probe' && m.index === pr.match;
    if (!pr.maybeUpdate(m.index) && !probeConfirmed) return;
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot' && pr.match + 1 >= this.log.firstIndex()) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') {
      pr.inflights.freeLE(m.index);
    }
    this.maybeCommit();
    if (wasPaused) this.sendAppend(m.from, true);
    while (this.sendAppend(m.from, false)) {
      // stream while the window allows
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.send({ type: 'timeoutNow', to: m.from, term: this.term });
    }
  }

  private heardFromLeader(from: MemberId): void {
    this.electionElapsed = 0;
    this.setLeader(from);
    this.leaderConnClosed = false;
    this.leaderLossRemaining = -1;
    this.lostLeader = NONE;
  }

  // =====================================================================
  // Leader: replication
  // =====================================================================

  /** Appends entries of the current term; returns the last new index. */
  private appendAsLeader(items: readonly { type: EntryType; data: Uint8Array }[]): number {
    let index = this.log.lastIndex();
    const entries: Entry[] = items.map((it) => ({ index: ++index, term: this.term, type: it.type, data: it.data }));
    this.appendToLog(entries);
    this.needBcastAppend = true;
    // A lone voter commits on its own once the write is synced (see advance()).
    return index;
  }

  private checkCanAppend(): void {
    if (this.leadTransferee !== NONE) {
      throw new RaftError(RaftErrorCode.TransferInProgress, `leadership is moving to ${this.leadTransferee}; retry shortly`, {
        leader: this.id,
        term: this.term,
      });
    }
    if (this.log.lastIndex() - this.log.committed >= this.maxUncommitted) {
      throw new RaftError(RaftErrorCode.Overloaded, `${this.maxUncommitted} proposals await commit; retry shortly`, {
        leader: this.id,
        term: this.term,
      });
    }
  }

  /** Sends the follower what it misses (or a snapshot). Returns whether a message went out. */
  private sendAppend(to: MemberId, sendIfEmpty: boolean): boolean {
    const pr = this.progress.get(to);
    if (!pr || pr.isPaused()) return false;
    const log = this.log;
    const prevIndex = pr.next - 1;
    const prevTerm = log.term(prevIndex);
    const entries = log.slice(pr.next, log.lastIndex() + 1, this.maxSizePerMsg);
    if (prevTerm === undefined || entries === undefined) return this.sendSnapshot(to, pr);
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send({ type: 'app', to, term: this.term, prevIndex, prevTerm, entries, commit: log.committed });
    pr.sentEntries(entries.length, prevIndex + entries.length);
    pr.sentCommit = Math.max(pr.sentCommit, log.committed);
    return true;
  }

  private sendSnapshot(to: MemberId, pr: Progress): boolean {
    if (!pr.recentActive) return false;
    const snapshot = this.log.snapshot;
    pr.becomeSnapshot(snapshot.meta.index);
    this.send({ type: 'snap', to, term: this.term, snapshot });
    return true;
  }

  private bcastAppend(): void {
    for (const id of this.progress.keys()) {
      this.sendAppend(id, true);
      while (this.sendAppend(id, false)) {
        // fill the window
      }
    }
  }

  private bcastHeartbeat(): void {
    for (const [to, pr] of this.progress) {
      const commit = Math.min(pr.match, this.log.committed);
      this.send({ type: 'heartbeat', to, term: this.term, commit, readSeq: this.readSeq });
      pr.sentCommit = Math.max(pr.sentCommit, commit);
    }
  }

  private maybeCommit(): boolean {
    const idx = quorumIndex(this.conf.voters, (id) => (id === this.id ? this.log.stableIndex : (this.progress.get(id)?.match ?? 0)));
    if (idx <= this.log.committed || !this.canCommitByCounting(idx)) return false;
    this.log.commitTo(idx);
    // Followers learn the new commit index from the next append, which under
    // load follows at once; tickHeartbeat sends it to any follower that got
    // none within a tick. An empty append of its own per commit would double
    // the messages, the answers and the followers' log writes of a write.
    this.onLeaderCommit();
    return true;
  }

  private onLeaderCommit(): void {
    if (this.readsAwaitingCommit.length > 0 && this.log.term(this.log.committed) === this.term) {
      const waiting = this.readsAwaitingCommit;
      this.readsAwaitingCommit = [];
      for (const r of waiting) {
        if (!this.handleReadIndex(r.requestId, r.from)) this.rejectRead(r.requestId, r.from, 'too many pending reads');
      }
    }
    if (!this.conf.voters.includes(this.id) && this.pendingConfIndex <= this.log.committed) {
      this.becomeFollower(this.term, NONE, `removed from the configuration at index ${this.pendingConfIndex}`);
    }
  }

  private quorumActive(): boolean {
    let active = 0;
    for (const v of this.conf.voters) {
      if (v === this.id || this.progress.get(v)?.recentActive) active++;
    }
    return active >= Math.floor(this.conf.voters.length / 2) + 1;
  }

  // =====================================================================
  // Leader: reads and transfer
  // =====================================================================

  /** Queues a read; returns false when the queue is full. */
  private handleReadIndex(requestId: string, from: MemberId): boolean {
    if (this.log.term(this.log.committed) !== this.term) {
      // A new leader does not know the latest commit until an entry of its own term commits.
      if (this.readsAwaitingCommit.length >= this.maxPendingReads) return false;
      this.readsAwaitingCommit.push({ requestId, from });
      return true;
    }
    if (this.pendingReads.length >= this.maxPendingReads) return false;
    this.readSeq++;
    this.pendingReads.push({ requestId, from, index: this.log.committed, seq: this.readSeq });
    // One heartbeat round (sent at the next ready()) confirms every read queued before it.
    this.needBcastHeartbeat = true;
    this.processReads();
    return true;
  }

  private processReads(): void {
    if (this.pendingReads.length === 0) return;
    const confirmed = quorumIndex(this.conf.voters, (id) => (id === this.id ? this.readSeq : (this.ackedSeq.get(id) ?? 0)));
    let n = 0;
    while (n < this.pendingReads.length && this.pendingReads[n]!.seq <= confirmed) {
      const r = this.pendingReads[n]!;
      if (r.from === this.id) this.readStates.push({ requestId: r.requestId, index: r.index });
      else this.send({ type: 'readIndexResp', to: r.from, term: 0, requestId: r.requestId, index: r.index, reject: false });
      n++;
    }
    if (n > 0) this.pendingReads = this.pendingReads.slice(n);
  }

  private rejectRead(requestId: string, from: MemberId, reason: string): void {
    if (from === this.id) this.failedReads.push({ requestId, reason });
    else this.send({ type: 'readIndexResp', to: from, term: 0, requestId, index: 0, reject: true });
  }

  /** On leaving the leader role (or a leader change), no pending read can complete any more. */
  private failLeaderReads(reason: string): void {
    for (const r of this.pendingReads) this.rejectRead(r.requestId, r.from, reason);
    for (const r of this.readsAwaitingCommit) this.rejectRead(r.requestId, r.from, reason);
    this.pendingReads = [];
    this.readsAwaitingCommit = [];
  }

  private handleTransfer(target: MemberId, local: boolean): void {
    if (target === this.id) return;
    const pr = this.progress.get(target);
    if (!pr || pr.learner) {
      if (local) {
        throw new RaftError(RaftErrorCode.InvalidRequest, `cannot transfer leadership to ${target}: not a voter`, {
          leader: this.id,
          term: this.term,
        });
      }
      return;
    }
    if (this.leadTransferee === target) return;
    this.abortLeaderTransfer();
    this.leadTransferee = target;
    this.transferElapsed = 0;
    if (pr.match === this.log.lastIndex()) this.send({ type: 'timeoutNow', to: target, term: this.term });
    else this.sendAppend(target, true);
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
    this.transferElapsed = 0;
  }

  // =====================================================================
  // Log and configuration
  // =====================================================================

  /** Appends (cutting a conflicting suffix) and keeps the configuration in step with the log. */
  private appendToLog(entries: readonly Entry[]): void {
    const cut = this.log.truncateAndAppend(entries);
    let confChanged = false;
    if (cut !== 0) {
      const before = this.confHistory.length;
      this.confHistory = this.confHistory.filter((c) => c.index < cut);
      confChanged = this.confHistory.length !== before;
    }
    for (const e of entries) confChanged = this.recordConf(e) || confChanged;
    if (confChanged) {
      this.conf = this.confHistory[this.confHistory.length - 1]?.conf ?? this.baseConf;
      this.syncProgress();
    }
  }

  /** A membership change is in force as soon as it is in the log. */
  private recordConf(e: Entry): boolean {
    if (e.type !== EntryType.ConfChange) return false;
    const { conf } = decodeConfChange(e.data);
    this.confHistory.push({ index: e.index, conf });
    this.conf = conf;
    return true;
  }

  private confAt(index: number): ConfState {
    let conf = this.baseConf;
    for (const c of this.confHistory) {
      if (c.index <= index) conf = c.conf;
    }
    return conf;
  }

  /** Leader: one Progress per member other than itself. */
  private syncProgress(): void {
    if (this.role !== 'leader') return;
    const members = new Set([...this.conf.voters, ...this.conf.learners]);
    for (const id of [...this.progress.keys()]) {
      if (!members.has(id)) {
        this.progress.delete(id);
        this.ackedSeq.delete(id);
      }
    }
    for (const id of members) {
      if (id === this.id) continue;
      const learner = this.conf.learners.includes(id);
      const pr = this.progress.get(id);
      if (pr) pr.learner = learner;
      else this.progress.set(id, new Progress(this.log.lastIndex() + 1, this.maxInflight, learner));
    }
    if (this.leadTransferee !== NONE && !this.conf.voters.includes(this.leadTransferee)) this.abortLeaderTransfer();
    this.maybeCommit();
    this.processReads();
  }

  // =====================================================================
  // Small helpers
  // =====================================================================

  private promotable(): boolean {
    return this.conf.voters.includes(this.id);
  }

  /** A live leader is known: votes and PreVotes are refused (CheckQuorum's lease). */
  private inLease(): boolean {
    return this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTicks && !this.leaderConnClosed;
  }

  private setLeader(leader: MemberId): void {
    if (leader !== this.lead && this.forwardedReads.size > 0) {
      for (const id of this.forwardedReads.keys()) {
        this.failedReads.push({ requestId: id, reason: `leader changed from ${this.lead || 'none'} to ${leader || 'none'}` });
      }
      this.forwardedReads.clear();
    }
    this.lead = leader;
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTicks + this.rng.int(this.electionTicks);
  }

  private softState(): SoftState {
    return { role: this.role, leader: this.lead, term: this.term, reason: this.reason };
  }

  /** Queues a message built by the caller as a fresh literal; `from` is filled in here (no copy: this is the hot path). */
  private send(m: DistributiveOmit<Message, 'from'>): void {
    const msg = m as { from?: MemberId };
    msg.from = this.id;
    this.msgs.push(msg as Message);
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

function sameSoft(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.leader === b.leader && a.term === b.term;
}

function sameHard(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
