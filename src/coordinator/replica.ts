/**
 * A coordinator replica: wires the Raft core to its Ready loop (persist
 * every Ready, one write, before its messages go out; apply committed
 * entries to the routing table), to batched linearizable reads, membership
 * changes and leadership transfer, and offers the table to the API
 * (CoordinatorService). Clock, timers, randomness, storage and the outbox are
 * passed in, so the system simulation runs this same code.
 *
 * Followers serve everything through Raft itself: their proposals are
 * forwarded by the core (the leader restamps `atMs` with its clock) and come
 * back to them as committed entries they apply like everyone else, so the
 * proposer learns apply's outcome locally; linearizable reads use ReadIndex.
 */
import { ClusterError, ClusterErrorCode } from '../errors/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import { EntryType, RawNode, decodeConfChange, type Entry, type Message, type Rng, type Snapshot, type SoftState } from '../raft/index.js';
import type { PersistedBatch, RaftStorage } from '../storage/index.js';
import type { RaftSettings } from '../config/index.js';
import { realTimers, systemClock, type Clock, type Timer, type Timers } from '../common/clock.js';
import { LeadershipTransfer } from './leadership-transfer.js';
import { Membership } from './membership.js';
import { notLeaderError } from './not-leader.js';
import type { Outbox } from './outbox.js';
import { decodeProposal, encodeProposal, restampProposal } from './proposal-envelope.js';
import { toClusterError } from './raft-errors.js';
import { ReadBatcher } from './read-batcher.js';
import { ReadyLoop } from './ready-loop.js';
import {
  applyCommand,
  applyMemberChange,
  deserializeState,
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

export type { Outbox } from './outbox.js';

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
  readonly clock?: Clock;
  readonly timers?: Timers;
  /** Fetches another replica's own status (GET /health), for /cluster/members. */
  readonly fetchStatus?: (apiAddress: string, timeoutMs: number) => Promise<ReplicaStatus | undefined>;
  /** The replica cannot go on (its log store failed): the process should exit and be restarted. */
  readonly onFatal?: (err: unknown) => void;
  /** Disk-fault injection only (TORUA_FAULTS): called once a Ready is persisted, before it is applied (and a follower's messages go out); may end the process. */
  readonly afterPersist?: (batch: PersistedBatch) => void;
}

interface PendingProposal {
  readonly resolve: (v: CommandOutcome) => void;
  readonly reject: (e: unknown) => void;
  readonly timer: Timer;
  /** The leader it went to. */
  leader: string;
}

const DEFAULT_PROPOSAL_TIMEOUT_MS = 5_000;
const DEFAULT_READ_TIMEOUT_MS = 2_000;
const MEMBERS_FETCH_TIMEOUT_MS = 300;

export class CoordinatorReplica implements CoordinatorService {
  private readonly raft: RawNode;
  private table: RoutingState;
  private appliedIndex: number;
  private appliedSinceSnapshot = 0;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly startedAtMs: number;
  private readonly requestPrefix: string;
  private nextRequest = 0;
  /** Proposals waiting for their entry to apply. */
  private readonly proposals = new Map<string, PendingProposal>();
  private readonly eventListeners = new Set<(e: RoutingEvent) => void>();
  private readonly roleListeners = new Set<(c: RoleChange) => void>();
  /** When each peer was last heard from (leader's view of followers, follower's view of the leader). */
  private readonly lastHeardMs = new Map<string, number>();
  /** The last leader this replica knew ('' before it knew any), for the staleness of reads while none is known. */
  private lastLeader = '';
  /** The leader whose contact gaps are measured, and the longest gap since it became leader. */
  private gapLeader = '';
  private maxGapMs = 0;
  private ticker: Timer | undefined;
  private readonly loop: ReadyLoop;
  private readonly reads: ReadBatcher;
  private readonly membership: Membership;
  private readonly transfers: LeadershipTransfer;
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
    this.clock = modules.clock ?? systemClock;
    this.timers = modules.timers ?? realTimers;
    this.startedAtMs = this.clock.nowMs();
    // Unique across restarts, so a late entry of an earlier life never resolves a new request.
    this.requestPrefix = `${opts.id}.${this.startedAtMs.toString(36)}.${modules.rng.int(1 << 30).toString(36)}`;
    const heartbeatMs = opts.raft.heartbeatTicks * opts.raft.tickMs;
    const apiAddressOf = (id: string): string | undefined => this.apiAddressOf(id);
    const applied = (): { state: RoutingState; appliedIndex: number } => ({ state: this.table, appliedIndex: this.appliedIndex });
    const kick = (): void => this.loop.kick();
    this.loop = new ReadyLoop(
      { heartbeatMs },
      {
        raft,
        storage: modules.storage,
        outbox: modules.outbox,
        clock: this.clock,
        ...(modules.metrics ? { metrics: modules.metrics } : {}),
        ...(modules.afterPersist ? { afterPersist: modules.afterPersist } : {}),
        handler: {
          applyCommitted: (e) => this.applyCommitted(e),
          confirmReads: (rd) => this.reads.confirm(rd),
          onSoftState: (s) => this.onSoftState(s),
          installSnapshot: (s) => this.installSnapshot(s),
          leaderSettled: (leader) => this.failProposalsOfOtherLeaders(leader),
          advanced: () => {
            this.reads.settle();
            this.maybeSnapshot();
            this.updateMetrics();
          },
          fatal: (e) => {
            modules.logger.error('replica stopped: its log store failed', { error: e instanceof Error ? e.message : String(e) });
            this.closed = true;
            modules.onFatal?.(e);
          },
        },
      },
    );
    this.reads = new ReadBatcher(
      { replicaId: opts.id, heartbeatMs, readTimeoutMs: opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS },
      { raft, clock: this.clock, timers: this.timers, applied, newRequestId: () => this.newRequestId(), kick, apiAddressOf },
    );
    this.membership = new Membership({
      replicaId: opts.id,
      raft,
      loop: this.loop,
      outbox: modules.outbox,
      clock: this.clock,
      timers: this.timers,
      logger: modules.logger,
      applied,
      compact: () => this.compactNow(),
      checkLeader: () => this.checkLeader(),
      closed: () => this.closed,
      apiAddressOf,
    });
    this.transfers = new LeadershipTransfer({ raft, timers: this.timers, kick, apiAddressOf });
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
    replica.ticker = replica.timers.every(r.tickMs, () => replica.tick());
    replica.loop.kick();
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
      msg = { ...m, entries: m.entries.map((e) => ({ data: restampProposal(e.data, now) })) };
    }
    this.raft.step(msg);
    this.loop.sendLeaderMessagesEarly();
    this.loop.kick();
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
    this.loop.kick();
  }

  private tick(): void {
    if (this.closed) return;
    this.raft.tick();
    this.reads.checkRounds();
    this.loop.sendLeaderMessagesEarly();
    this.loop.kick();
  }

  // ---------------------------------------------------------------------
  // What the Ready loop hands back
  // ---------------------------------------------------------------------

  private onSoftState(s: SoftState): void {
    if (s.leader) this.lastLeader = s.leader;
    this.modules.logger.info(s.role === 'leader' ? 'became leader' : `became ${s.role}`, {
      role: s.role,
      term: s.term,
      leader: s.leader || null,
      reason: s.reason,
    });
    this.modules.metrics?.raft.leaderChanges.inc();
    this.transfers.leaderChanged();
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
      p.timer.cancel();
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
        const out = applyCommand(this.table, parsed.command, meta);
        this.table = out.state;
        result = out.result;
      }
      const p = this.proposals.get(requestId);
      if (p) {
        this.proposals.delete(requestId);
        p.timer.cancel();
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
    this.membership.entryApplied(e.index, e.term);
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
    this.compactNow();
    this.modules.logger.debug('snapshot taken', { index: this.appliedIndex });
  }

  /** Compacts the log at the applied index, with the table as its snapshot. */
  private compactNow(): void {
    this.raft.compact(this.appliedIndex, serializeState(this.table));
    this.appliedSinceSnapshot = 0;
    this.loop.kick();
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
    return this.reads.read(timeoutMs);
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
      const timer = this.timers.after(timeoutMs, () => {
        this.proposals.delete(id);
        reject(
          new ClusterError(
            { code: ClusterErrorCode.Timeout, operation: command.type, timeoutMs },
            `${command.type} was not committed within ${timeoutMs} ms (no quorum, or a leader change); it may still take effect`,
          ),
        );
      });
      this.proposals.set(id, { resolve, reject, timer, leader: '' });
    });
    try {
      const r = this.raft.propose(encodeProposal(id, stamped));
      this.proposals.get(id)!.leader = r.kind === 'appended' ? this.opts.id : r.leader;
    } catch (e) {
      const p = this.proposals.get(id);
      if (p) p.timer.cancel();
      this.proposals.delete(id);
      throw toClusterError(e, (l) => this.apiAddressOf(l));
    }
    this.loop.kick();
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

  async addMember(member: NewMember, timeoutMs = 30_000, by?: string): Promise<void> {
    await this.membership.addMember(member, timeoutMs, by);
  }

  async removeMember(id: string, timeoutMs = 10_000, by?: string): Promise<void> {
    await this.membership.removeMember(id, timeoutMs, by);
  }

  async transferLeadership(to: string, timeoutMs = 3_000): Promise<void> {
    this.checkOpen();
    await this.transfers.transfer(to, timeoutMs);
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
      await this.loop.stop();
      return;
    }
    this.closed = true;
    this.ticker?.cancel();
    const gone = (): ClusterError => new ClusterError({ code: ClusterErrorCode.Unavailable, reason: 'replica shutting down' }, 'the replica is shutting down');
    for (const p of this.proposals.values()) (p.timer.cancel(), p.reject(gone()));
    this.proposals.clear();
    this.reads.failAll(gone);
    await this.loop.stop();
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
