import {
  EntryType,
  RaftError,
  RawNode,
  SeededRng,
  decodeConfChange,
  type ConfState,
  type Message,
  type MemberId,
  type RaftModules,
  type RaftOptions,
  type Ready,
} from '../../src/raft/index.js';
import { MemoryStorage, batchOf } from '../../src/storage/index.js';
import { brokenVariants, type Variant } from './broken-variants.js';
import { SafetyChecker, type Violation } from './checker.js';
import { SimNetwork, type NetworkFaults } from './network.js';
import { SimStateMachine } from './state-machine.js';

export interface SimOptions {
  readonly seed: number;
  /** Voters at the start (3 or 5). */
  readonly replicas: number;
  /** Length of the faulty phase in ticks. */
  readonly faultTicks?: number;
  /** After healing, a leader and full convergence must follow within this many ticks. */
  readonly healTicks?: number;
  /** A deliberately broken core, to prove the checkers catch it (never used in production). */
  readonly variant?: Variant;
  /** Called with one line per event when tracing. */
  readonly trace?: (line: string) => void;
}

export interface SimStats {
  elections: number;
  proposals: number;
  proposalsRefused: number;
  acked: number;
  reads: number;
  readsServed: number;
  readsFailed: number;
  crashes: number;
  pauses: number;
  partitions: number;
  transfers: number;
  confChanges: number;
  compactions: number;
  snapshotsInstalled: number;
  messages: number;
  dropped: number;
}

export interface SimResult {
  readonly seed: number;
  readonly replicas: number;
  readonly variant: Variant;
  readonly violations: readonly Violation[];
  /** Ticks from healing to convergence, or undefined when it never converged. */
  readonly convergedAfterTicks: number | undefined;
  readonly ticks: number;
  readonly stats: SimStats;
  /** The seed-derived fault profile, for the trace header. */
  readonly profile: FaultProfile;
}

/** How hostile one seed's world is; drawn from the seed so seeds explore different regimes. */
export interface FaultProfile {
  readonly network: NetworkFaults;
  readonly crashRate: number;
  readonly pauseRate: number;
  readonly partitionRate: number;
  readonly transferRate: number;
  readonly confChangeRate: number;
  readonly proposeRate: number;
  readonly readRate: number;
  readonly compactEvery: number;
  /** Probability that a Ready's write completes one or two ticks later (steps arrive meanwhile). */
  readonly asyncPersistRate: number;
  /** Probability that a crash is reported to the peers as a closed connection. */
  readonly reportCloseRate: number;
  readonly skewRate: number;
  /** Crashed replicas come back after 1–10 ticks (a quick restart) or 5–45. */
  readonly quickRestarts: boolean;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxSizePerMsgBytes: number;
  readonly maxInflightMsgs: number;
  readonly maxUncommittedEntries: number;
  /** The client's proposals per tick at most (each with proposeRate). */
  readonly maxProposalsPerTick: number;
}

export const ELECTION_TICKS = 10;
export const HEARTBEAT_TICKS = 2;
export const DEFAULT_FAULT_TICKS = 400;
/**
 * The convergence bound after healing: 50 election timeouts. The slowest
 * worlds need it: five replicas without PreVote (disruptive candidates with
 * stale logs) catching up hundreds of entries with one entry per message.
 */
export const DEFAULT_HEAL_TICKS = 50 * ELECTION_TICKS;

interface PendingWrite {
  readonly rd: Ready;
  readonly completeAt: number;
}

interface SimNode {
  readonly id: MemberId;
  raft: RawNode;
  readonly storage: MemoryStorage;
  readonly initialConf: ConfState | undefined;
  sm: SimStateMachine;
  alive: boolean;
  decommissioned: boolean;
  pausedUntil: number;
  restartAt: number;
  pending: PendingWrite | undefined;
}

const encoder = new TextEncoder();

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function drawProfile(rng: SeededRng): FaultProfile {
  const profile: Mutable<FaultProfile> = {
    network: {
      dropRate: rng.pick([0, 0.01, 0.05, 0.1, 0.2]),
      duplicateRate: rng.pick([0, 0.01, 0.05]),
      maxDelayTicks: rng.pick([0, 1, 2, 3]),
      fifo: false,
    },
    crashRate: rng.pick([0, 0.005, 0.01, 0.02, 0.04]),
    pauseRate: rng.pick([0, 0.005, 0.01]),
    partitionRate: rng.pick([0, 0.01, 0.02, 0.04]),
    transferRate: rng.pick([0, 0.005, 0.01]),
    confChangeRate: rng.pick([0, 0, 0.01, 0.03]),
    proposeRate: rng.pick([0.3, 0.6, 0.9]),
    readRate: rng.pick([0.1, 0.3]),
    compactEvery: rng.pick([4, 10, 30, 1_000_000]),
    asyncPersistRate: rng.pick([0, 0.3, 0.7]),
    reportCloseRate: rng.pick([0, 0.8, 1]),
    skewRate: rng.pick([0, 0.05]),
    quickRestarts: rng.chance(0.5),
    preVote: rng.chance(0.75),
    checkQuorum: rng.chance(0.75),
    maxSizePerMsgBytes: rng.pick([1, 1, 256, 4096]),
    maxInflightMsgs: rng.pick([1, 4, 64]),
    maxUncommittedEntries: rng.pick([64, 100_000]),
    maxProposalsPerTick: 3,
  };
  // A world whose replication is slower than its client must still drain its
  // backlog within the heal budget: with one entry per message keep the
  // window at 4 or more, and with a window below 16 bound what may wait
  // uncommitted and compact often, so laggards catch up by snapshot.
  if (profile.maxSizePerMsgBytes === 1) {
    profile.maxInflightMsgs = Math.max(4, profile.maxInflightMsgs);
    if (profile.maxInflightMsgs < 16) {
      profile.maxUncommittedEntries = Math.min(profile.maxUncommittedEntries, 256);
      profile.compactEvery = Math.min(profile.compactEvery, 30);
    }
  }
  return profile;
}

/**
 * A deterministic world for the Raft core: replicas with in-memory storage
 * that loses unsynced writes on a crash, a network that drops, delays,
 * duplicates, reorders and partitions, a client that proposes and reads,
 * and an operator that transfers leadership, replaces members and compacts.
 * One seed decides everything. After the faulty phase everything is healed
 * and the cluster must converge within the heal budget.
 */
export class Simulator {
  private readonly rng: SeededRng;
  private readonly worldRng: SeededRng;
  private readonly nodeRngSource: SeededRng;
  private readonly network: SimNetwork;
  private readonly checker = new SafetyChecker();
  private readonly nodes = new Map<MemberId, SimNode>();
  private readonly profile: FaultProfile;
  private readonly faultTicks: number;
  private readonly healTicks: number;
  private readonly variant: Variant;
  private readonly trace: ((line: string) => void) | undefined;
  private readonly initialVoters: MemberId[];
  private now = 0;
  private healed = false;
  private nextCommand = 0;
  private nextRead = 0;
  private nextNodeId: number;
  private replacements = 0;
  private lastAdded: MemberId | undefined;
  private probe: { command: string; at: number } | undefined;
  private probeAcked = false;
  private readonly proposals = new Map<string, MemberId>();
  private readonly reads = new Map<string, { node: MemberId; minIndex: number }>();
  private readonly toDecommission = new Set<MemberId>();
  private readonly stats: SimStats = {
    elections: 0,
    proposals: 0,
    proposalsRefused: 0,
    acked: 0,
    reads: 0,
    readsServed: 0,
    readsFailed: 0,
    crashes: 0,
    pauses: 0,
    partitions: 0,
    transfers: 0,
    confChanges: 0,
    compactions: 0,
    snapshotsInstalled: 0,
    messages: 0,
    dropped: 0,
  };

  constructor(private readonly opts: SimOptions) {
    this.rng = new SeededRng(opts.seed);
    this.profile = drawProfile(this.rng);
    this.worldRng = this.rng.fork();
    this.nodeRngSource = this.rng.fork();
    this.network = new SimNetwork(this.rng.fork());
    this.faultTicks = opts.faultTicks ?? DEFAULT_FAULT_TICKS;
    this.healTicks = opts.healTicks ?? DEFAULT_HEAL_TICKS;
    this.variant = opts.variant ?? 'correct';
    this.trace = opts.trace;
    this.initialVoters = Array.from({ length: opts.replicas }, (_, i) => `n${i + 1}`);
    this.nextNodeId = opts.replicas + 1;
    const conf: ConfState = { voters: this.initialVoters, learners: [] };
    for (const id of this.initialVoters) this.addNode(id, conf);
  }

  run(): SimResult {
    this.network.faults = this.profile.network;
    this.log(`profile ${JSON.stringify(this.profile)}`);
    let convergedAfter: number | undefined;
    const end = this.faultTicks + this.healTicks;
    for (this.now = 0; this.now <= end; this.now++) {
      this.checker.now = this.now;
      if (this.now === this.faultTicks) this.heal();
      if (!this.healed) this.injectFaults();
      this.restartDue();
      this.tickAll();
      this.deliver();
      this.clientOps();
      for (const n of this.nodes.values()) this.pump(n);
      this.decommission();
      if (this.checker.violations.length > 0) break;
      if (this.healed && this.converged()) {
        convergedAfter = this.now - this.faultTicks;
        break;
      }
    }
    if (this.checker.violations.length === 0) {
      if (convergedAfter === undefined) {
        this.checker.fail('liveness', `no leader and full convergence within ${this.healTicks} ticks of healing: ${this.describeCluster()}`);
      } else {
        this.checker.checkAcknowledged();
      }
    }
    this.stats.messages = this.network.sent;
    this.stats.dropped = this.network.dropped;
    this.stats.acked = this.checker.acked.size;
    return {
      seed: this.opts.seed,
      replicas: this.opts.replicas,
      variant: this.variant,
      violations: this.checker.violations,
      convergedAfterTicks: convergedAfter,
      ticks: this.now,
      stats: this.stats,
      profile: this.profile,
    };
  }

  // ---- replicas -----------------------------------------------------------

  private makeRaft(id: MemberId, initialConf: ConfState | undefined, storage: MemoryStorage): RawNode {
    const opts: RaftOptions = {
      id,
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: HEARTBEAT_TICKS,
      preVote: this.profile.preVote,
      checkQuorum: this.profile.checkQuorum,
      maxInflightMsgs: this.profile.maxInflightMsgs,
      maxSizePerMsgBytes: this.profile.maxSizePerMsgBytes,
      maxUncommittedEntries: this.profile.maxUncommittedEntries,
      ...(initialConf ? { initialConf } : {}),
    };
    const modules: RaftModules = { rng: this.nodeRngSource.fork(), initial: storage.loadNow() };
    const Impl = brokenVariants[this.variant];
    return new Impl(opts, modules);
  }

  private addNode(id: MemberId, initialConf: ConfState | undefined): SimNode {
    const storage = new MemoryStorage();
    const node: SimNode = {
      id,
      raft: this.makeRaft(id, initialConf, storage),
      storage,
      initialConf,
      sm: new SimStateMachine(),
      alive: true,
      decommissioned: false,
      pausedUntil: 0,
      restartAt: 0,
      pending: undefined,
    };
    this.nodes.set(id, node);
    return node;
  }

  private crash(n: SimNode, downTicks: number): void {
    n.alive = false;
    n.pending = undefined;
    n.storage.crash();
    n.restartAt = this.now + downTicks;
    this.network.dropTo(n.id);
    this.stats.crashes++;
    const report = this.worldRng.chance(this.profile.reportCloseRate);
    this.log(`crash ${n.id} (unsynced writes lost) for ${downTicks} ticks${report ? ', peers see the connection close' : ''}`);
    if (report) {
      for (const o of this.nodes.values()) {
        if (o.alive && o.id !== n.id) {
          o.raft.reportConnectionClosed(n.id);
          this.afterInput(o);
        }
      }
    }
  }

  private restart(n: SimNode): void {
    n.raft = this.makeRaft(n.id, n.initialConf, n.storage);
    const initial = n.storage.loadNow();
    n.sm = SimStateMachine.fromSnapshot(initial.snapshot);
    n.alive = true;
    n.pausedUntil = 0;
    this.log(`restart ${n.id} from term ${initial.hardState.term} vote ${initial.hardState.vote || '-'} with ${initial.entries.length} entries`);
  }

  private restartDue(): void {
    for (const n of this.nodes.values()) {
      if (!n.alive && !n.decommissioned && n.restartAt <= this.now) this.restart(n);
    }
  }

  private isRunning(n: SimNode): boolean {
    return n.alive && n.pausedUntil <= this.now;
  }

  private running(): SimNode[] {
    return [...this.nodes.values()].filter((n) => this.isRunning(n));
  }

  private *leaders(): Iterable<[MemberId, RawNode]> {
    for (const n of this.nodes.values()) if (n.alive && n.raft.currentRole === 'leader') yield [n.id, n.raft];
  }

  /** The running leader with the highest term, if any. */
  private currentLeader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      if (this.isRunning(n) && n.raft.currentRole === 'leader' && (!best || n.raft.currentTerm > best.raft.currentTerm)) best = n;
    }
    return best;
  }

  // ---- driving the core ---------------------------------------------------

  private guard(n: SimNode, what: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      if (e instanceof RaftError) this.checker.fail('core invariant', `${n.id} during ${what}: ${e.code} ${e.message}`);
      else this.checker.fail('core crashed', `${n.id} during ${what}: ${(e as Error).stack ?? String(e)}`);
    }
  }

  private afterInput(n: SimNode): void {
    this.checker.observeRole(n.id, n.raft);
  }

  private tickAll(): void {
    for (const n of this.nodes.values()) {
      if (!this.isRunning(n)) continue;
      if (this.profile.skewRate > 0 && this.worldRng.chance(this.profile.skewRate)) continue; // a slow clock
      this.guard(n, 'tick', () => n.raft.tick());
      this.afterInput(n);
      this.pump(n);
    }
  }

  private deliver(): void {
    const due = this.network.due(this.now, (to) => {
      const n = this.nodes.get(to);
      return n !== undefined && n.alive && n.pausedUntil > this.now;
    });
    for (const m of due) {
      const n = this.nodes.get(m.to);
      if (!n || !n.alive) continue;
      if (this.trace) this.log(`deliver ${describeMessage(m)}`);
      this.guard(n, `step ${m.type}`, () => n.raft.step(m));
      this.afterInput(n);
      this.pump(n);
    }
  }

  /** Hands out Readies, completing writes whose time has come, as a replica would. */
  private pump(n: SimNode): void {
    for (let k = 0; k < 8; k++) {
      if (!n.alive) return;
      if (n.pending) {
        if (n.pending.completeAt > this.now) return;
        this.completeWrite(n);
      }
      if (!n.raft.hasReady()) return;
      let rd: Ready | undefined;
      this.guard(n, 'ready', () => {
        rd = n.raft.ready();
      });
      if (!rd) return;
      if (rd.softState) {
        if (rd.softState.role === 'leader') this.stats.elections++;
        this.log(`${n.id} is ${rd.softState.role} of term ${rd.softState.term} (leader ${rd.softState.leader || '-'}): ${rd.softState.reason}`);
      }
      this.checker.observeAppended(n.id, n.raft, rd.entries);
      n.storage.write(batchOf(rd));
      const delay = this.worldRng.chance(this.profile.asyncPersistRate) ? 1 + this.worldRng.int(2) : 0;
      n.pending = { rd, completeAt: this.now + delay };
    }
  }

  /** The write is durable: send, apply, serve reads, advance. */
  private completeWrite(n: SimNode): void {
    const rd = n.pending!.rd;
    n.pending = undefined;
    if (rd.mustSync) n.storage.sync();
    for (const m of rd.messages) this.network.send(m, this.now);
    if (rd.snapshot) {
      n.sm = SimStateMachine.fromSnapshot(rd.snapshot);
      this.stats.snapshotsInstalled++;
      this.checker.observeSnapshotRestore(n.id, n.sm.appliedIndex, n.sm.hash);
      this.log(`${n.id} installed snapshot at ${rd.snapshot.meta.index}`);
    }
    for (const e of rd.committedEntries) {
      let desc: string;
      try {
        desc = n.sm.apply(e);
      } catch (err) {
        this.checker.fail('state machine safety', `${n.id}: ${(err as Error).message}`);
        return;
      }
      this.checker.observeApplied(n.id, n.raft.currentTerm, e, n.sm.hash, this.leaders());
      if (e.type === EntryType.Normal) {
        const cmd = desc.slice(4);
        if (this.proposals.get(cmd) === n.id) {
          this.proposals.delete(cmd);
          this.checker.observeAck(cmd, e.index);
          if (this.probe?.command === cmd) this.probeAcked = true;
        }
      } else if (e.type === EntryType.ConfChange) {
        const { change } = decodeConfChange(e.data);
        if (change.type === 'remove') this.toDecommission.add(change.node);
      }
    }
    for (const rs of rd.readStates) {
      const r = this.reads.get(rs.requestId);
      if (!r || r.node !== n.id) {
        this.checker.fail('linearizable read', `${n.id} completed read ${rs.requestId} it never started`);
        continue;
      }
      this.reads.delete(rs.requestId);
      this.checker.observeReadIndex(n.id, rs.requestId, rs.index, r.minIndex);
      this.stats.readsServed++;
    }
    for (const fr of rd.failedReads) {
      this.reads.delete(fr.requestId);
      this.stats.readsFailed++;
    }
    this.guard(n, 'advance', () => n.raft.advance());
    this.afterInput(n);
    const behind = n.raft.raftLog.applied - n.raft.raftLog.snapshot.meta.index;
    if (behind >= this.profile.compactEvery && n.sm.appliedIndex === n.raft.raftLog.applied) {
      this.guard(n, 'compact', () => n.raft.compact(n.sm.appliedIndex, n.sm.snapshot()));
      this.stats.compactions++;
    }
  }

  private decommission(): void {
    for (const id of this.toDecommission) {
      const n = this.nodes.get(id);
      if (n && !n.decommissioned) {
        n.alive = false;
        n.decommissioned = true;
        n.pending = undefined;
        this.network.dropTo(id);
        this.log(`decommission ${id} (its removal is committed)`);
      }
    }
    this.toDecommission.clear();
  }

  // ---- the client and the operator ---------------------------------------

  private clientOps(): void {
    const rng = this.worldRng;
    // Once healed, only the probe is proposed, so the replicas can drain their backlog.
    let budget = this.healed ? 0 : this.profile.maxProposalsPerTick;
    while (budget-- > 0 && rng.chance(this.profile.proposeRate)) {
      const n = this.pickRunning();
      if (!n) break;
      const cmd = `c${++this.nextCommand}`;
      this.propose(n, cmd);
    }
    if (this.healed && !this.probeAcked && (!this.probe || this.now - this.probe.at > 2 * ELECTION_TICKS)) {
      const target = this.currentLeader() ?? this.pickRunning();
      if (target) {
        const cmd = `probe${++this.nextCommand}`;
        this.probe = { command: cmd, at: this.now };
        this.propose(target, cmd);
      }
    }
    if (rng.chance(this.profile.readRate)) {
      const n = this.pickRunning();
      if (n) {
        const id = `r${++this.nextRead}`;
        this.stats.reads++;
        this.reads.set(id, { node: n.id, minIndex: this.checker.maxAckedIndex });
        try {
          n.raft.readIndex(id);
        } catch (e) {
          if (!(e instanceof RaftError)) throw e;
          this.reads.delete(id);
          this.stats.readsFailed++;
        }
        this.afterInput(n);
      }
    }
  }

  private propose(n: SimNode, cmd: string): void {
    this.stats.proposals++;
    try {
      n.raft.propose(encoder.encode(cmd));
      this.proposals.set(cmd, n.id);
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
      this.stats.proposalsRefused++;
    }
    this.afterInput(n);
  }

  private pickRunning(): SimNode | undefined {
    const r = this.running();
    return r.length === 0 ? undefined : this.worldRng.pick(r);
  }

  private injectFaults(): void {
    const rng = this.worldRng;
    const p = this.profile;
    if (rng.chance(p.crashRate)) {
      // Half of the crashes hit the leader: that is where the hard cases are (Figure 8).
      const n = (rng.chance(0.5) ? this.currentLeader() : undefined) ?? this.pickRunning();
      if (n) this.crash(n, p.quickRestarts ? 1 + rng.int(10) : 5 + rng.int(40));
    }
    if (rng.chance(p.pauseRate)) {
      const n = this.pickRunning();
      if (n) {
        n.pausedUntil = this.now + 5 + rng.int(30);
        this.stats.pauses++;
        this.log(`pause ${n.id} until tick ${n.pausedUntil}`);
      }
    }
    if (rng.chance(p.partitionRate)) this.repartition();
    if (rng.chance(p.transferRate)) {
      const l = this.currentLeader();
      if (l) {
        const voters = l.raft.status().conf.voters.filter((v) => v !== l.id);
        if (voters.length > 0) {
          const to = rng.pick(voters);
          this.stats.transfers++;
          this.log(`transfer leadership ${l.id} -> ${to}`);
          try {
            l.raft.transferLeadership(to);
          } catch (e) {
            if (!(e instanceof RaftError)) throw e;
          }
          this.afterInput(l);
        }
      }
    }
    if (rng.chance(p.confChangeRate)) this.operatorStep();
  }

  private repartition(): void {
    const rng = this.worldRng;
    const ids = [...this.nodes.values()].filter((n) => !n.decommissioned).map((n) => n.id);
    this.network.healAll();
    this.stats.partitions++;
    const kind = rng.pick(['heal', 'isolate', 'split', 'oneWay', 'link'] as const);
    switch (kind) {
      case 'heal':
        break;
      case 'isolate': {
        const x = (rng.chance(0.5) ? this.currentLeader()?.id : undefined) ?? rng.pick(ids);
        for (const o of ids) if (o !== x) (this.network.cutLink(x, o), this.network.cutLink(o, x));
        break;
      }
      case 'split': {
        const shuffled = [...ids].sort(() => rng.float() - 0.5);
        const k = 1 + rng.int(Math.max(1, Math.floor(ids.length / 2)));
        const a = shuffled.slice(0, k);
        const b = shuffled.slice(k);
        for (const x of a) for (const y of b) (this.network.cutLink(x, y), this.network.cutLink(y, x));
        break;
      }
      case 'oneWay': {
        const x = rng.pick(ids);
        const y = rng.pick(ids.filter((i) => i !== x));
        this.network.cutLink(x, y);
        break;
      }
      case 'link': {
        const x = rng.pick(ids);
        const y = rng.pick(ids.filter((i) => i !== x));
        this.network.cutLink(x, y);
        this.network.cutLink(y, x);
        break;
      }
    }
    this.log(`partition ${kind}: cut ${this.network.cutLinks().join(' ') || 'nothing'}`);
  }

  /** Replaces members one step at a time: add a learner, promote it, remove an old voter. */
  private operatorStep(): void {
    const l = this.currentLeader();
    if (!l) return;
    const conf = l.raft.status().conf;
    let change: Parameters<RawNode['proposeMembershipChange']>[0] | undefined;
    if (conf.learners.length > 0) {
      change = { type: 'promote', node: conf.learners[0]! };
    } else if (conf.voters.length > this.opts.replicas) {
      const candidates = conf.voters.filter((v) => v !== this.lastAdded);
      change = { type: 'remove', node: this.worldRng.pick(candidates) };
    } else if (this.replacements < 2) {
      const id = `n${this.nextNodeId++}`;
      this.addNode(id, undefined);
      this.lastAdded = id;
      this.replacements++;
      change = { type: 'addLearner', node: id };
    }
    if (!change) return;
    try {
      const index = l.raft.proposeMembershipChange(change);
      this.stats.confChanges++;
      this.log(`${l.id} proposes ${change.type} ${change.node} at ${index}`);
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
      this.log(`${l.id} refuses ${change.type} ${change.node}: ${e.code}`);
    }
    this.afterInput(l);
  }

  // ---- healing and convergence -------------------------------------------

  private heal(): void {
    this.healed = true;
    this.network.healAll();
    this.network.faults = { dropRate: 0, duplicateRate: 0, maxDelayTicks: 1, fifo: true };
    for (const n of this.nodes.values()) {
      n.pausedUntil = 0;
      if (!n.alive && !n.decommissioned) this.restart(n);
    }
    this.log('heal: partitions removed, every replica running, no more drops');
  }

  /** Members of the current leader's configuration. */
  private members(): SimNode[] {
    const l = this.currentLeader();
    if (!l) return [];
    const conf = l.raft.status().conf;
    return [...conf.voters, ...conf.learners].map((id) => this.nodes.get(id)).filter((n): n is SimNode => n !== undefined);
  }

  private converged(): boolean {
    const l = this.currentLeader();
    if (!l || !this.probeAcked) return false;
    const commit = l.raft.raftLog.committed;
    if (l.raft.raftLog.term(commit) !== l.raft.currentTerm) return false;
    const hash = l.sm.hash;
    for (const n of this.members()) {
      if (!n.alive || n.sm.appliedIndex !== commit || n.sm.hash !== hash || n.raft.raftLog.committed !== commit) return false;
    }
    return true;
  }

  private describeCluster(): string {
    return [...this.nodes.values()]
      .filter((n) => !n.decommissioned)
      .map((n) => {
        const log = n.raft.raftLog;
        return `${n.id}:${n.alive ? n.raft.currentRole : 'down'} t${n.raft.currentTerm} commit ${log.committed} applied ${n.sm.appliedIndex} last ${log.lastIndex()}`;
      })
      .join('; ');
  }

  private log(line: string): void {
    if (this.trace) this.trace(`t=${this.now} ${line}`);
  }
}

export function describeMessage(m: Message): string {
  const head = `${m.type} ${m.from}->${m.to} term=${m.term}`;
  switch (m.type) {
    case 'app':
      return `${head} prev=${m.prevIndex}/${m.prevTerm} entries=${m.entries.length} commit=${m.commit}`;
    case 'appResp':
      return `${head} ${m.reject ? `reject index=${m.index} hint=${m.hintIndex}/${m.hintTerm}` : `index=${m.index}`}`;
    case 'vote':
    case 'preVote':
      return `${head} last=${m.lastIndex}/${m.lastTerm}${m.transfer ? ' transfer' : ''}`;
    case 'voteResp':
    case 'preVoteResp':
      return `${head} ${m.reject ? 'reject' : 'grant'}`;
    case 'heartbeat':
      return `${head} commit=${m.commit} seq=${m.readSeq}`;
    case 'snap':
      return `${head} snapshot=${m.snapshot.meta.index}/${m.snapshot.meta.term}`;
    default:
      return head;
  }
}

export function runSeed(opts: SimOptions): SimResult {
  return new Simulator(opts).run();
}
