/**
 * The control plane under deterministic simulation: coordinator replicas
 * running the production CoordinatorReplica (its Ready loop, batched reads,
 * leadership transfer and the routing table's apply) over a simulated
 * clock, timers, network and disk, all decided by one seed. A client
 * registers nodes, declares failures (with and without a majority's
 * confirmation) and reads linearizably; an operator transfers leadership;
 * the world drops, delays, duplicates and partitions messages (also the
 * leader from one replica only), crashes replicas (their unsynced writes are
 * lost), pauses them, slows their disks and skews their clocks. The checks
 * run after every step; after the faulty phase everything heals and the
 * replicas must converge within a bound.
 */
import { NodeControl } from '../../../src/coordinator/node-control.js';
import { planPlacement } from '../../../src/coordinator/placement/index.js';
import { CoordinatorReplica } from '../../../src/coordinator/replica.js';
import type { CoordinatorService } from '../../../src/coordinator/service.js';
import { SimTime } from '../../../src/coordinator/sim-time.js';
import type { Timers } from '../../../src/coordinator/clock.js';
import { epochAfterInSyncChange, initialState, invariantViolations, stateHash, type Command, type RoutingState, type SetInSync } from '../../../src/coordinator/routing/index.js';
import { raftSettingsSchema } from '../../../src/config/index.js';
import { silentLogger } from '../../../src/observability/index.js';
import { SeededRng, type Message } from '../../../src/raft/index.js';
import { MemoryStorage } from '../../../src/storage/index.js';
import { SimNetwork } from '../network.js';
import { simNodeLink, simReplicaLink, type LinkWorld } from './sim-links.js';
import { NodeLeases } from './node-leases.js';
import { NodeWrites } from './node-writes.js';
import { AdminWorkload } from './admin-workload.js';
import { honestDisk, SimDisk, type DiskBehaviour, type DiskWrite } from './sim-disk.js';
import { blindConfirm, earlyInSyncAnswer, fencingWithoutLease, MISMATCHED_SHARDS, plantedDisk, type SystemVariant } from './planted.js';

/** One step of simulated time. */
export const STEP_MS = 5;
const TICK_MS = 10;
const ELECTION_TICKS = 10;
const HEARTBEAT_TICKS = 2;
export const DEFAULT_FAULT_MS = 6_000;
/** After healing: a leader, equal tables everywhere and a committed probe within this (100 election timeouts). */
export const DEFAULT_HEAL_MS = 100 * ELECTION_TICKS * TICK_MS;
/** Commands the client keeps waiting at most (it retries nothing: an unanswered one has an unknown outcome). */
const MAX_IN_FLIGHT = 16;
const TRACE_LINES = 400;
/** The placement planner assigns the shards' first copies at most this long after the first node registered. */
const FIRST_ASSIGNMENT_GRACE_MS = 1_000;
/** Chance per step of a client write to the data nodes (one shard drawn). */
const WRITE_RATE = 0.2;
/** The lease of the cluster settings (their default): the nodes renew every third of it. */
const LEASE_MS = 1_000;
/** The data nodes register this fast at most (a fleet starting). */
const REGISTRATIONS_PER_STEP = 8;
/**
 * A failure declared for a node that a majority of the replicas reached
 * (the node up, their links to it whole) for this long before is wrong: it
 * spans the detection (threshold × probe interval, a probe timeout, a
 * confirmation round) with room to spare.
 */
const REACHED_FOR_MS = 3_000;

export interface SystemSimOptions {
  readonly seed: number;
  readonly replicas: number;
  /** Data nodes registered before the client starts (default 8); the client registers more. */
  readonly nodes?: number;
  /** Shards of the table (default 8). */
  readonly shards?: number;
  readonly faultMs?: number;
  readonly healMs?: number;
  /** A deliberately broken part, planted outside src/, to prove the checks catch it. */
  readonly variant?: SystemVariant;
  /** Every trace line as it happens (replay); otherwise only the last ones are kept for a failure. */
  readonly trace?: (line: string) => void;
}

export interface SystemViolation {
  readonly property: string;
  readonly atMs: number;
  readonly detail: string;
}

export interface SystemStats {
  proposals: number;
  acked: number;
  refused: number;
  unknown: number;
  reads: number;
  readsServed: number;
  crashes: number;
  pauses: number;
  partitions: number;
  transfers: number;
  adminOperations: number;
  leaderChanges: number;
  nodeCrashes: number;
  nodeCuts: number;
  declaredFailed: number;
  leaseGrants: number;
  /** Client writes the data nodes took, acknowledged, and in-sync removals they asked for. */
  writes: number;
  writesAcked: number;
  inSyncRemovals: number;
  /** Steps × shards with one node serving writes (the check has something to look at). */
  servedShardSteps: number;
  messages: number;
  dropped: number;
}

export interface SystemSimResult {
  readonly seed: number;
  readonly replicas: number;
  readonly variant: SystemVariant;
  /** The options that differ from the defaults, as command-line flags (for the replay command). */
  readonly flags: string;
  readonly violations: readonly SystemViolation[];
  /** Simulated ms from healing to convergence; undefined when it never converged. */
  readonly convergedAfterMs: number | undefined;
  readonly simulatedMs: number;
  readonly stats: SystemStats;
  /** Wall time of the data-node duties' timer callbacks (health rounds, deadlines), all replicas. */
  readonly controlCost: { readonly callbacks: number; readonly totalMs: number; readonly maxMs: number };
  /** Wall time of the whole run. */
  readonly wallMs: number;
  /** The last trace lines before the end (or the first violation). */
  readonly trace: readonly string[];
}

interface Profile {
  readonly dropRate: number;
  readonly duplicateRate: number;
  readonly maxDelaySteps: number;
  readonly crashRate: number;
  readonly pauseRate: number;
  readonly partitionRate: number;
  readonly transferRate: number;
  readonly slowDiskRate: number;
  readonly proposeRate: number;
  readonly nodeFaultRate: number;
  /** Some lease answers take up to this much longer on their way back. */
  readonly slowAnswerMs: number;
  readonly readRate: number;
  readonly skewMs: number;
  readonly snapshotEveryEntries: number;
  /** Chance per step of an operator action (drain, maintenance, settings, rebalance…). */
  readonly adminRate: number;
}

interface Proc {
  readonly id: string;
  readonly store: MemoryStorage;
  time: SimTime;
  replica: CoordinatorReplica | undefined;
  /** Leases, health monitor and confirmations: what the replica runs for the data nodes while it leads. */
  control: NodeControl | undefined;
  incarnation: number;
  alive: boolean;
  pausedUntilStep: number;
  restartAtStep: number;
  /** Applied index and hash last checked, to check only what changed. */
  checkedIndex: number;
  slowDiskUntilStep: number;
}

/** A data node, as a model: it is up or down, and answers a probe of whoever reaches it. */
interface DataNode {
  readonly id: string;
  readonly address: string;
  downUntilStep: number;
  /** The last step at which no majority of the replicas reached it (up, links whole); -1: never. */
  unreachedAtStep: number;
}

interface Ack {
  readonly nodeId: string;
  readonly index: number;
}

const drain = (): Promise<void> => new Promise((r) => setImmediate(r));

function drawProfile(rng: SeededRng): Profile {
  return {
    dropRate: rng.pick([0, 0.01, 0.05, 0.1]),
    duplicateRate: rng.pick([0, 0.01, 0.05]),
    maxDelaySteps: rng.pick([0, 1, 4, 10]),
    crashRate: rng.pick([0, 0.002, 0.005, 0.01]),
    pauseRate: rng.pick([0, 0.001, 0.003]),
    partitionRate: rng.pick([0, 0.001, 0.004]),
    transferRate: rng.pick([0, 0.001, 0.003]),
    slowDiskRate: rng.pick([0, 0.0005, 0.002]),
    proposeRate: rng.pick([0.01, 0.02, 0.05]),
    nodeFaultRate: rng.pick([0.001, 0.003, 0.01]),
    slowAnswerMs: rng.pick([0, 1_500, 6_000]),
    readRate: rng.pick([0.02, 0.1]),
    skewMs: rng.pick([0, 5, 50]),
    snapshotEveryEntries: rng.pick([5, 20, 1_000]),
    adminRate: rng.pick([0.003, 0.006, 0.012]),
  };
}

export class SystemSimulator {
  private readonly rng: SeededRng;
  private readonly profile: Profile;
  private readonly network: SimNetwork;
  private readonly procs: Proc[] = [];
  private readonly ids: string[];
  private readonly table: RoutingState;
  private readonly raftSettings;
  private readonly disk: DiskBehaviour;
  /** The table the last replica starts from in the mismatched-table variant. */
  private readonly mismatchedTable: RoutingState | undefined;
  private writes: DiskWrite[] = [];
  step = 0;
  private readonly violations: SystemViolation[] = [];
  private readonly traceLines: string[] = [];
  private readonly stats: SystemStats = {
    proposals: 0,
    acked: 0,
    refused: 0,
    unknown: 0,
    reads: 0,
    readsServed: 0,
    crashes: 0,
    pauses: 0,
    partitions: 0,
    transfers: 0,
    adminOperations: 0,
    leaderChanges: 0,
    nodeCrashes: 0,
    nodeCuts: 0,
    declaredFailed: 0,
    leaseGrants: 0,
    writes: 0,
    writesAcked: 0,
    inSyncRemovals: 0,
    servedShardSteps: 0,
    messages: 0,
    dropped: 0,
  };
  /** Acknowledged registrations: the node must be in every table that applied its index. */
  private readonly acks: Ack[] = [];
  private maxAckedIndex = 0;
  /** Nodes a failure declaration with a majority's confirmation was ever proposed for. */
  private readonly confirmedFailures = new Set<string>();
  /** Each replica's table as last checked. */
  private readonly lastState = new Map<string, RoutingState>();
  /** The first applied index at which each shard had an in-sync copy: from there on it must always have one. */
  private readonly firstInSyncAt = new Map<number, number>();
  /** Election safety: the leader of each term. */
  private readonly leaderOfTerm = new Map<number, string>();
  /** Tables agree at equal applied index: the hash first seen at each index. */
  private readonly hashAt = new Map<number, { hash: string; by: string }>();
  private inFlight = 0;
  /** Wall time of the NodeControl timer callbacks (see measuredTimers). */
  private readonly controlCost = { callbacks: 0, totalMs: 0, maxMs: 0 };
  /** Data nodes still to register before the client's own writes. */
  private initialNodes = 0;
  private nextNode = 0;
  private healed = false;
  /** Link cuts and when they heal. */
  private cuts: { links: [string, string][]; healStep: number }[] = [];
  private readonly dataNodes = new Map<string, DataNode>();
  /** Cut replica↔node links (`replica|node`) and when they heal. */
  private nodeCuts = new Map<string, number>();
  private readonly links: LinkWorld;
  /** True time, for what travels outside any process (an answer on its way to a node). */
  private readonly worldTime = new SimTime(0);
  private readonly leases: NodeLeases;
  private readonly writesModel: NodeWrites;
  private readonly admin: AdminWorkload;
  /** The newest table applied anywhere (so committed), and its index. */
  private newest: { index: number; state: RoutingState } | undefined;

  constructor(private readonly opts: SystemSimOptions) {
    this.rng = new SeededRng(opts.seed);
    this.profile = drawProfile(this.rng);
    this.network = new SimNetwork(this.rng.fork());
    this.network.faults = { dropRate: this.profile.dropRate, duplicateRate: this.profile.duplicateRate, maxDelayTicks: this.profile.maxDelaySteps, fifo: false };
    this.ids = Array.from({ length: opts.replicas }, (_, i) => `c${i + 1}`);
    const members = this.ids.map((id) => ({ id, host: `${id}.sim`, apiPort: 7000, peerPort: 7100 }));
    // A short event ring keeps the table (hashed at every applied index by the checks) small.
    this.table = initialState({ clusterId: 'sim', shards: opts.shards ?? 8, members, eventCapacity: 32 });
    this.raftSettings = raftSettingsSchema.parse({
      tickMs: TICK_MS,
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: HEARTBEAT_TICKS,
      snapshotEveryEntries: this.profile.snapshotEveryEntries,
    });
    const latency = (): number => (this.rng.chance(0.5) ? 0 : 1);
    const honest = honestDisk(latency);
    this.disk = opts.variant === 'lying-fsync' ? plantedDisk(opts.variant, honest) : honest;
    this.mismatchedTable = opts.variant === 'mismatched-table' ? initialState({ clusterId: 'sim', shards: (opts.shards ?? 8) + MISMATCHED_SHARDS, members, eventCapacity: 32 }) : undefined;
    this.links = this.linkWorld();
    this.leases = this.leaseWorld(opts.variant === 'lease-from-receipt');
    this.writesModel = this.writeWorld();
    this.admin = this.adminWorld();
    for (const id of this.ids) {
      this.procs.push({ id, store: new MemoryStorage(), time: new SimTime(0), replica: undefined, control: undefined, incarnation: 0, alive: false, pausedUntilStep: 0, restartAtStep: 0, checkedIndex: -1, slowDiskUntilStep: 0 });
    }
  }

  private linkWorld(): LinkWorld {
    const linkRng = this.rng.fork();
    return {
      hopMs: () => linkRng.int(this.profile.maxDelaySteps + 1) * STEP_MS,
      nodeAt: (from, address) => {
        const n = this.dataNodes.get(address);
        return n && this.nodeUp(n) && !this.leases.paused(n.id) && !this.nodeCuts.has(`${from}|${n.id}`) ? n : undefined;
      },
      replicaAt: (from, apiAddress) => {
        const p = this.procs.find((x) => `${x.id}.sim:7000` === apiAddress);
        if (!p || !this.running(p) || !p.control || this.network.isCut(from, p.id)) return undefined;
        return this.opts.variant === 'blind-confirm' ? { confirmProbe: () => Promise.resolve(blindConfirm) } : p.control;
      },
      handoff: (id, req) => {
        this.leases.handoff(id, req.shard, req.epoch);
        this.note(`node ${id} hands shard ${req.shard} off at epoch ${req.epoch}`);
        return { lastSeq: 0, caughtUp: false };
      },
      callerAlive: (from, incarnation) => {
        const p = this.proc(from);
        return p.alive && p.incarnation === incarnation;
      },
    };
  }

  private adminWorld(): AdminWorkload {
    return new AdminWorkload({
      rng: this.rng.fork(),
      leaderTable: () => {
        const l = this.leader();
        return l === undefined ? undefined : this.lastState.get(l.id);
      },
      cutFromLeader: () => {
        const l = this.leader();
        return l === undefined ? [] : [...this.dataNodes.values()].filter((n) => this.nodeCuts.has(`${l.id}|${n.id}`)).map((n) => n.id);
      },
      propose: (cmd, what) => {
        const targets = this.procs.filter((p) => this.running(p));
        const l = this.leader();
        if (targets.length === 0) return;
        this.note(`operator: ${what}`);
        this.propose(l !== undefined && this.rng.chance(0.7) ? l : this.rng.pick(targets), cmd, () => undefined);
      },
      rebalance: () => {
        const control = this.leader()?.control;
        control?.requestRebalance('sim operator').then(
          (r) => this.note(`rebalance answered: ${r.round?.proposed.length ?? 0} steps, pending ${r.pending}`),
          (e: unknown) => this.note(`rebalance failed: ${e instanceof Error ? e.message.slice(0, 60) : String(e)}`),
        );
      },
      note: (line) => this.note(line),
    });
  }

  private writeWorld(): NodeWrites {
    const sim = this;
    return new NodeWrites(
      {
        get nowMs() {
          return sim.nowMs;
        },
        rng: this.rng.fork(),
        nodesReach: (a, b) => {
          const nb = this.dataNodes.get(`${b}.sim:9000`);
          return a === b || (nb !== undefined && this.nodeUp(nb) && !this.leases.paused(b));
        },
        note: (line) => this.note(line),
        fail: (property, detail) => this.fail(property, detail),
      },
      this.leases,
    );
  }

  /** A primary's in-sync change as the API carries it out on the leader: proposed once, answered with the epoch after it. */
  private async setInSync(replica: CoordinatorReplica, cmd: SetInSync): Promise<number> {
    const service = this.opts.variant === 'early-in-sync-answer' ? earlyInSyncAnswer(this.watched(replica)) : this.watched(replica);
    const out = await service.propose(cmd);
    if (!out.ok) throw new Error(`setInSync refused: ${out.code}`);
    return epochAfterInSyncChange(cmd, out.changed);
  }

  private leaseWorld(fromReceipt: boolean): NodeLeases {
    const sim = this;
    const linkRng = this.rng.fork();
    return new NodeLeases(
      {
        get nowMs() {
          return sim.nowMs;
        },
        rng: linkRng,
        replica: (id) => {
          const p = this.proc(id);
          if (!this.running(p) || !p.control) return undefined;
          const control = p.control;
          const replica = p.replica!;
          return { after: (ms, fn) => void p.time.after(ms, fn), renew: (req) => control.renewLease(req), setInSync: (cmd) => this.setInSync(replica, cmd) };
        },
        replicaIds: this.ids,
        leaderId: () => this.leader()?.id,
        nodeReaches: (node, replica) => {
          const n = this.dataNodes.get(`${node}.sim:9000`);
          return n !== undefined && this.nodeUp(n) && !this.nodeCuts.has(`${replica}|${node}`);
        },
        replicasReach: (a, b) => a === b || (!this.network.isCut(a, b) && !this.network.isCut(b, a)),
        later: (ms, fn) => void this.worldTime.after(ms, fn),
        hopMs: () => linkRng.int(this.profile.maxDelaySteps + 1) * STEP_MS,
        note: (line) => this.note(line),
        fail: (property, detail) => this.fail(property, detail),
      },
      fromReceipt,
      this.profile.slowAnswerMs,
    );
  }

  private nodeUp(n: DataNode): boolean {
    return n.downUntilStep <= this.step;
  }

  get nowMs(): number {
    return this.step * STEP_MS;
  }

  enqueueWrite(w: DiskWrite): void {
    const p = this.proc(w.owner);
    const slow = p.slowDiskUntilStep > this.step ? 2 + this.rng.int(30) : 0;
    this.writes.push({ ...w, dueStep: w.dueStep + slow });
  }

  async run(): Promise<SystemSimResult> {
    const faultSteps = Math.ceil((this.opts.faultMs ?? DEFAULT_FAULT_MS) / STEP_MS);
    const healSteps = Math.ceil((this.opts.healMs ?? DEFAULT_HEAL_MS) / STEP_MS);
    const startedWallMs = performance.now();
    this.note(`profile ${JSON.stringify(this.profile)}`);
    for (const p of this.procs) await this.startProc(p);
    this.initialNodes = this.opts.nodes ?? 8;
    let convergedAfterMs: number | undefined;
    let probe: { nodeId: string; acked: boolean } | undefined;
    for (let i = 0; i < faultSteps + healSteps && this.violations.length === 0; i++) {
      this.step++;
      if (i === faultSteps) this.heal();
      if (!this.healed) this.injectFaults();
      await this.restartDue();
      const asked = this.client();
      // Only a step in which something happened has continuations to run.
      if (this.deliver() + this.advanceTimers() + asked > 0) await drain();
      await this.completeWrites();
      this.trackReach();
      this.worldTime.advanceTo(this.nowMs);
      this.leases.step(LEASE_MS);
      await drain();
      await this.check();
      this.stats.servedShardSteps += this.leases.check();
      if (this.newest !== undefined) this.writesModel.check(this.newest.state, this.newest.index);
      if (this.healed && probe === undefined && this.leader()) {
        probe = { nodeId: `probe`, acked: false };
        const pr = probe;
        this.propose(this.leader()!, this.register('probe'), (ok) => (pr.acked = ok));
      }
      if (this.healed && probe && !probe.acked && this.step % 200 === 0 && this.leader()) {
        const pr = probe;
        this.propose(this.leader()!, this.register('probe'), (ok) => (pr.acked ||= ok));
      }
      if (this.healed && probe?.acked && this.converged()) {
        convergedAfterMs = (i - faultSteps) * STEP_MS;
        break;
      }
    }
    if (this.violations.length === 0 && convergedAfterMs === undefined) {
      this.fail('liveness after healing', `no convergence within ${healSteps * STEP_MS} ms of healing: ${this.describeReplicas()}`);
    }
    if (this.violations.length === 0) await this.finalCheck();
    for (const p of this.procs) if (p.alive) this.kill(p);
    this.stats.messages = this.network.sent;
    this.stats.leaseGrants = this.leases.granted;
    this.stats.adminOperations = this.admin.operations;
    this.stats.writes = this.writesModel.stats.writes;
    this.stats.writesAcked = this.writesModel.stats.acked;
    this.stats.inSyncRemovals = this.writesModel.stats.removals;
    this.stats.dropped = this.network.dropped;
    return {
      seed: this.opts.seed,
      replicas: this.opts.replicas,
      variant: this.opts.variant ?? 'none',
      flags: this.flags(),
      violations: this.violations,
      convergedAfterMs,
      simulatedMs: this.nowMs,
      stats: this.stats,
      controlCost: this.controlCost,
      wallMs: performance.now() - startedWallMs,
      trace: this.traceLines,
    };
  }

  private flags(): string {
    const o = this.opts;
    const f: string[] = [];
    if (o.replicas !== 3) f.push(`--replicas ${o.replicas}`);
    if (o.nodes !== undefined && o.nodes !== 8) f.push(`--nodes ${o.nodes}`);
    if (o.shards !== undefined && o.shards !== 8) f.push(`--shards ${o.shards}`);
    if (o.variant !== undefined && o.variant !== 'none') f.push(`--variant ${o.variant}`);
    if (o.faultMs !== undefined && o.faultMs !== DEFAULT_FAULT_MS) f.push(`--fault-ms ${o.faultMs}`);
    if (o.healMs !== undefined && o.healMs !== DEFAULT_HEAL_MS) f.push(`--heal-ms ${o.healMs}`);
    return f.join(' ');
  }

  // -------------------------------------------------------------------
  // The world
  // -------------------------------------------------------------------

  private proc(id: string): Proc {
    return this.procs.find((p) => p.id === id)!;
  }

  private running(p: Proc): boolean {
    return p.alive && p.pausedUntilStep <= this.step && p.replica !== undefined;
  }

  private async startProc(p: Proc): Promise<void> {
    p.incarnation++;
    p.time = new SimTime(this.nowMs);
    p.time.driftMs = this.profile.skewMs === 0 ? 0 : this.rng.int(2 * this.profile.skewMs + 1) - this.profile.skewMs;
    p.alive = true;
    p.checkedIndex = -1;
    const incarnation = p.incarnation;
    const outbox = {
      send: (msgs: readonly Message[]) => {
        if (!p.alive || p.incarnation !== incarnation) return;
        for (const m of msgs) this.network.send(m, this.step);
      },
      setPeers: () => undefined,
    };
    let replica: CoordinatorReplica;
    try {
      replica = await CoordinatorReplica.start(
      { id: p.id, clusterId: 'sim', version: 'sim', raft: this.raftSettings, initialVoters: this.ids, initialTable: p.id === this.ids.at(-1) ? (this.mismatchedTable ?? this.table) : this.table, proposalTimeoutMs: 3_000, readTimeoutMs: 1_000 },
        { storage: new SimDisk(p.store, p.id, incarnation, this, this.disk), outbox, logger: silentLogger, rng: this.rng.fork(), clock: p.time, timers: p.time },
      );
    } catch (e) {
      // What it persisted cannot be loaded: it stays down, and that is a finding.
      this.fail('restart from disk', `${p.id} cannot start from what it persisted: ${e instanceof Error ? e.message : String(e)}`);
      p.alive = false;
      p.restartAtStep = Number.MAX_SAFE_INTEGER;
      return;
    }
    replica.onRoleChange((c) => {
      if (c.role === 'leader') this.stats.leaderChanges++;
      this.note(`${p.id} ${c.role} term ${c.term} leader ${c.leader || '-'}`);
    });
    p.replica = replica;
    p.control = new NodeControl(
      { placement: true, health: {} },
      {
        service: this.watched(replica),
        nodeLink: simNodeLink(p.id, incarnation, p.time, this.links),
        replicaLink: simReplicaLink(p.id, incarnation, p.time, this.links),
        logger: silentLogger,
        clock: p.time,
        timers: this.measuredTimers(p),
        // The client registers nodes all along (they are its writes), which would hold the first assignment
        // back for the whole default grace: a short one gives the shards copies within the first second.
        plan: (state, input) => planPlacement(state, { ...input, graceMs: FIRST_ASSIGNMENT_GRACE_MS }),
        ...(this.opts.variant === 'promotion-without-lease' ? { fencing: fencingWithoutLease } : {}),
      },
    );
    await drain();
  }

  /**
   * The replica's timers as its NodeControl gets them: each callback's wall
   * time is counted (health rounds, probe and confirmation deadlines), as
   * the cost of the leader's duties besides Raft.
   */
  private measuredTimers(p: Proc): Timers {
    const time = p.time;
    const timed = (fn: () => void) => (): void => {
      const started = performance.now();
      fn();
      const ms = performance.now() - started;
      const c = this.controlCost;
      c.callbacks++;
      c.totalMs += ms;
      c.maxMs = Math.max(c.maxMs, ms);
    };
    return { after: (ms, fn) => time.after(ms, timed(fn)), every: (ms, fn) => time.every(ms, timed(fn)) };
  }

  /** The replica as its NodeControl sees it, with every failure declaration checked as it is proposed. */
  private watched(replica: CoordinatorReplica): CoordinatorService {
    return {
      status: () => replica.status(),
      read: (c, t) => replica.read(c, t),
      propose: (cmd, t) => {
        this.checkDeclaration(replica.status().id, cmd);
        return replica.propose(cmd, t);
      },
      members: () => replica.members(),
      addMember: (m, t) => replica.addMember(m, t),
      removeMember: (id, t) => replica.removeMember(id, t),
      transferLeadership: (to, t) => replica.transferLeadership(to, t),
      events: (since) => replica.events(since),
      onEvent: (l) => replica.onEvent(l),
      onRoleChange: (l) => replica.onRoleChange(l),
      apiAddressOf: (id) => replica.apiAddressOf(id),
    };
  }

  /** A node is declared failed only with a majority's confirmation, and never while a majority reaches it. */
  private checkDeclaration(by: string, cmd: Command): void {
    if (cmd.type === 'setNodeStatus' && cmd.status !== 'unhealthy') this.note(`${by} marks ${cmd.nodeId} ${cmd.status}`);
    else if (cmd.type !== 'setNodeStatus') this.note(`${by} proposes ${cmd.type}${'shard' in cmd ? ` shard ${String(cmd.shard)}` : ''}`);
    if (cmd.type !== 'setNodeStatus' || cmd.status !== 'unhealthy') return;
    this.stats.declaredFailed++;
    const n = [...this.dataNodes.values()].find((x) => x.id === cmd.nodeId);
    this.note(`${by} declares ${cmd.nodeId} failed, confirmed by ${cmd.confirmedBy.join(',')} of ${cmd.voters}`);
    if (cmd.confirmedBy.length * 2 <= cmd.voters) this.fail('failure needs a majority', `${by} declares ${cmd.nodeId} failed with ${cmd.confirmedBy.length} of ${cmd.voters} confirmations`);
    else this.confirmedFailures.add(cmd.nodeId);
    if (n && this.nodeUp(n) && !this.leases.paused(n.id) && (n.unreachedAtStep < 0 || (this.step - n.unreachedAtStep) * STEP_MS > REACHED_FOR_MS)) {
      this.fail('failure declared while a majority reaches the node', `${by} declares ${cmd.nodeId} failed; a majority has reached it ${n.unreachedAtStep < 0 ? 'all along' : `since ${n.unreachedAtStep * STEP_MS} ms`}`);
    }
  }

  /** A crash: the process is gone with its timers, its socket buffers and every write not synced. */
  private kill(p: Proc): void {
    p.alive = false;
    p.replica = undefined;
    p.control = undefined;
    p.time.cancelAll();
    p.store.crash();
    this.network.dropTo(p.id);
    this.writes = this.writes.filter((w) => w.owner !== p.id);
  }

  private injectFaults(): void {
    const pr = this.profile;
    const rng = this.rng;
    const alive = this.procs.filter((p) => p.alive);
    if (rng.chance(pr.crashRate) && alive.length > 0) {
      const p = rng.pick(alive);
      this.kill(p);
      p.restartAtStep = this.step + 10 + rng.int(rng.chance(0.5) ? 40 : 400);
      this.stats.crashes++;
      this.note(`crash ${p.id} (restarts at ${p.restartAtStep * STEP_MS} ms)`);
    }
    if (rng.chance(pr.pauseRate) && alive.length > 0) {
      const p = rng.pick(alive);
      p.pausedUntilStep = this.step + 10 + rng.int(300);
      this.stats.pauses++;
      this.note(`pause ${p.id} until ${p.pausedUntilStep * STEP_MS} ms`);
    }
    if (rng.chance(pr.slowDiskRate) && alive.length > 0) {
      const p = rng.pick(alive);
      p.slowDiskUntilStep = this.step + 20 + rng.int(400);
      this.note(`slow disk ${p.id} until ${p.slowDiskUntilStep * STEP_MS} ms`);
    }
    if (rng.chance(pr.partitionRate)) this.partition();
    if (rng.chance(pr.nodeFaultRate) && this.dataNodes.size > 0) this.nodeFault();
    for (const [k, at] of this.nodeCuts) if (at <= this.step) (this.nodeCuts.delete(k), this.note(`heal ${k.replace('|', ' <-> ')}`));
    for (const c of this.cuts.filter((c) => c.healStep <= this.step)) this.healCut(c);
    if (rng.chance(pr.transferRate)) this.transfer();
  }

  private partition(): void {
    const rng = this.rng;
    const links: [string, string][] = [];
    const leader = this.leader();
    if (leader && rng.chance(0.4)) {
      // The leader loses one replica only; everyone else still reaches both.
      const other = rng.pick(this.ids.filter((id) => id !== leader.id));
      links.push([leader.id, other], [other, leader.id]);
      this.note(`cut ${leader.id} <-> ${other} (leader from one replica)`);
    } else {
      const shuffled = this.ids.map((id) => ({ id, k: rng.float() })).sort((a, b) => a.k - b.k).map((x) => x.id);
      const minority = shuffled.slice(0, 1 + rng.int(Math.floor((this.ids.length - 1) / 2)));
      for (const a of minority) for (const b of this.ids) if (!minority.includes(b)) links.push([a, b], [b, a]);
      this.note(`partition {${minority.join(',')}} from the rest`);
    }
    for (const [a, b] of links) this.network.cutLink(a, b);
    this.cuts.push({ links, healStep: this.step + 20 + rng.int(600) });
    this.stats.partitions++;
  }

  /** A data node crashes for a while, or loses the leader only, or a minority or majority of the replicas. */
  private nodeFault(): void {
    const rng = this.rng;
    const n = rng.pick([...this.dataNodes.values()]);
    // 0: the node crashes; 1: it loses the leader only; 2: some replicas; 3: it pauses; 4: it loses the leader and
    // its renewals are lost, while the other replicas still reach it (the case confirmations are for).
    const kind = rng.pick([0, 1, 1, 2, 3, 3, 4, 4]);
    const untilStep = this.step + 20 + rng.int(1_000);
    if (kind === 3) {
      // A primary stops for long enough to be replaced (its renewal may be in flight): what fencing is for.
      const primaries = this.leader()?.replica?.status() ? this.primariesOf(this.leader()!) : [];
      const target = primaries.length > 0 ? rng.pick(primaries) : n.id;
      const until = (this.step + 400 + rng.int(800)) * STEP_MS;
      this.leases.pause(target, until);
      this.note(`node ${target} paused until ${until} ms`);
      return;
    }
    if (kind === 0) {
      n.downUntilStep = untilStep;
      this.leases.down(n.id);
      this.stats.nodeCrashes++;
      this.note(`node ${n.id} down until ${untilStep * STEP_MS} ms`);
      return;
    }
    const leader = this.leader();
    const leaderOnly = (kind === 1 || kind === 4) && leader !== undefined;
    // A node the leader loses is most often a primary: its shards' moves then wait on fencing without a handoff.
    const primaries = leaderOnly ? this.primariesOf(leader) : [];
    const id = leaderOnly && primaries.length > 0 && rng.chance(0.7) ? rng.pick(primaries) : n.id;
    if (kind === 4) this.leases.mute(id, untilStep * STEP_MS);
    const from = leaderOnly ? [leader.id] : this.ids.filter(() => rng.chance(0.5));
    for (const r of from) this.nodeCuts.set(`${r}|${id}`, untilStep);
    this.stats.nodeCuts++;
    this.note(`cut ${id} from ${from.join(',') || 'nobody'}${leaderOnly ? ' (the leader only)' : ''}${kind === 4 ? ', its renewals lost' : ''} until ${untilStep * STEP_MS} ms`);
    // An operator who sees a node misbehave may take it out of service right then.
    if (leaderOnly && rng.chance(Math.min(1, this.profile.adminRate * 150))) this.admin.reactToCut(id);
  }

  /** The primaries in the last table `p` checked. */
  private primariesOf(p: Proc): string[] {
    const state = this.lastState.get(p.id);
    return state ? [...new Set(state.shards.map((sh) => sh.primary).filter((x): x is string => x !== null))].sort() : [];
  }

  /** Which nodes a majority of the replicas does not reach now (crashed replicas reach nothing). */
  private trackReach(): void {
    for (const n of this.dataNodes.values()) {
      if (this.nodeUp(n)) this.leases.up(n.id);
      const reaching = this.procs.filter((p) => p.alive && !this.nodeCuts.has(`${p.id}|${n.id}`)).length;
      if (!this.nodeUp(n) || this.leases.paused(n.id) || reaching * 2 <= this.procs.length) n.unreachedAtStep = this.step;
    }
  }

  private healCut(c: { links: [string, string][]; healStep: number }): void {
    this.cuts = this.cuts.filter((x) => x !== c);
    this.network.healAll();
    for (const other of this.cuts) for (const [a, b] of other.links) this.network.cutLink(a, b);
    this.note(`heal ${c.links.map(([a, b]) => `${a}>${b}`).join(' ')}`);
  }

  private transfer(): void {
    const leader = this.leader();
    if (!leader?.replica) return;
    const to = this.rng.pick(this.ids.filter((id) => id !== leader.id));
    this.stats.transfers++;
    this.note(`transfer ${leader.id} -> ${to}`);
    leader.replica.transferLeadership(to, 1_000).catch(() => undefined);
  }

  private heal(): void {
    this.healed = true;
    this.cuts = [];
    this.nodeCuts.clear();
    for (const n of this.dataNodes.values()) n.downUntilStep = 0;
    this.leases.resumeAll();
    this.network.healAll();
    this.network.faults = { dropRate: 0, duplicateRate: 0, maxDelayTicks: 1, fifo: false };
    for (const p of this.procs) {
      p.pausedUntilStep = 0;
      p.slowDiskUntilStep = 0;
      if (!p.alive) p.restartAtStep = this.step;
    }
    this.note('heal everything');
  }

  private async restartDue(): Promise<void> {
    for (const p of this.procs) {
      if (p.alive || p.restartAtStep > this.step) continue;
      this.note(`restart ${p.id}`);
      await this.startProc(p);
    }
  }

  /** Delivers the messages due now; returns how many. */
  private deliver(): number {
    const msgs = this.network.due(this.step, (to) => {
      const p = this.proc(to);
      return p.alive && p.pausedUntilStep > this.step;
    });
    for (const m of msgs) {
      const p = this.proc(m.to);
      if (this.running(p)) p.replica!.receive(m);
    }
    return msgs.length;
  }

  /** Fires the timers due now; returns how many fired. */
  private advanceTimers(): number {
    let fired = 0;
    for (const p of this.procs) if (this.running(p)) fired += p.time.advanceTo(this.nowMs);
    return fired;
  }

  /** Completes the disk writes due now (a write answered now may cause another, completed now if the disk is fast). */
  private async completeWrites(): Promise<void> {
    for (let round = 0; round < 8; round++) {
      const due = this.writes.filter((w) => w.dueStep <= this.step && this.running(this.proc(w.owner)));
      if (due.length === 0) break;
      this.writes = this.writes.filter((w) => !due.includes(w));
      for (const w of due) if (this.proc(w.owner).incarnation === w.incarnation) w.done();
      await drain();
    }
  }

  // -------------------------------------------------------------------
  // The client
  // -------------------------------------------------------------------

  /** A registration, and the data node model that answers at its address. */
  private register(nodeId: string): Command {
    const address = `${nodeId}.sim:9000`;
    if (!this.dataNodes.has(address)) {
      this.dataNodes.set(address, { id: nodeId, address, downUntilStep: 0, unreachedAtStep: -1 });
      this.leases.add(nodeId, this.profile.skewMs === 0 ? 0 : this.rng.int(2 * this.profile.skewMs + 1) - this.profile.skewMs);
    }
    return { type: 'registerNode', nodeId, address, capacity: 4, version: 'sim', identity: `${nodeId}-identity`, atMs: 0, reason: 'sim client' } as Command;
  }

  /** The client's requests this step; returns how many it made. */
  private client(): number {
    const rng = this.rng;
    const targets = this.procs.filter((p) => this.running(p));
    if (targets.length === 0) return 0;
    const before = this.stats.proposals + this.stats.reads;
    const leader = this.leader();
    const pickTarget = (): Proc => (leader && rng.chance(0.7) ? leader : rng.pick(targets));
    // The data nodes register first (through the leader, once there is one); then the client's writes are registrations too.
    const registering = this.nextNode < this.initialNodes;
    const wanted = registering ? (leader === undefined ? 0 : REGISTRATIONS_PER_STEP) : rng.chance(this.profile.proposeRate) ? 1 : 0;
    for (let i = 0; i < wanted && this.inFlight < (registering ? MAX_IN_FLIGHT * 4 : MAX_IN_FLIGHT); i++) {
      const nodeId = `n${this.nextNode++}`;
      this.propose(registering ? leader! : pickTarget(), this.register(nodeId), (ok, index) => {
        if (!ok) return;
        this.acks.push({ nodeId, index });
        this.maxAckedIndex = Math.max(this.maxAckedIndex, index);
      });
    }
    if (rng.chance(this.profile.readRate)) this.read(pickTarget());
    if (rng.chance(WRITE_RATE)) this.writesModel.write(rng.int(this.table.shards.length));
    if (!this.healed && rng.chance(this.profile.adminRate)) this.admin.act();
    return this.stats.proposals + this.stats.reads - before;
  }

  private propose(p: Proc, cmd: Command, done: (ok: boolean, index: number) => void): void {
    const replica = p.replica!;
    this.stats.proposals++;
    this.inFlight++;
    const what = `${cmd.type} ${(cmd as { nodeId?: string }).nodeId ?? ''}`;
    replica.propose(cmd).then(
      (out) => {
        this.inFlight--;
        if (out.ok) this.stats.acked++;
        else this.stats.refused++;
        this.note(`${p.id} ${what} -> ${out.ok ? 'ok' : out.code} at ${out.index}`);
        done(out.ok, out.index);
      },
      (e: unknown) => {
        this.inFlight--;
        this.stats.unknown++;
        this.note(`${p.id} ${what} -> ${e instanceof Error ? e.message.slice(0, 60) : String(e)}`);
      },
    );
  }

  private read(p: Proc): void {
    const replica = p.replica!;
    this.stats.reads++;
    // Everything acknowledged before the read began must be in what it returns.
    const mustSee = [...this.acks];
    const minIndex = this.maxAckedIndex;
    replica.read('linearizable').then(
      (r) => {
        this.stats.readsServed++;
        if (r.appliedIndex < minIndex) this.fail('linearizable read', `${p.id} answered at index ${r.appliedIndex}, below ${minIndex} acknowledged before the read began`);
        const missing = mustSee.find((a) => r.state.nodes[a.nodeId] === undefined);
        if (missing) this.fail('linearizable read', `${p.id} answered without ${missing.nodeId}, acknowledged at ${missing.index} before the read began`);
      },
      () => undefined,
    );
  }

  // -------------------------------------------------------------------
  // The checks
  // -------------------------------------------------------------------

  private leader(): Proc | undefined {
    let best: Proc | undefined;
    for (const p of this.procs) {
      if (!this.running(p)) continue;
      const s = p.replica!.status();
      if (s.role === 'leader' && (!best || s.term > best.replica!.status().term)) best = p;
    }
    return best;
  }

  private async check(): Promise<void> {
    for (const p of this.procs) {
      if (!p.alive || !p.replica) continue;
      const s = p.replica.status();
      if (s.role === 'leader') {
        const known = this.leaderOfTerm.get(s.term);
        if (known === undefined) this.leaderOfTerm.set(s.term, p.id);
        else if (known !== p.id) this.fail('election safety', `${known} and ${p.id} both lead term ${s.term}`);
      }
      if (s.appliedIndex === p.checkedIndex) continue;
      p.checkedIndex = s.appliedIndex;
      const { state } = await p.replica.read('stale');
      this.lastState.set(p.id, state);
      if (this.newest === undefined || s.appliedIndex > this.newest.index) this.newest = { index: s.appliedIndex, state };
      const hash = stateHash(state);
      const seen = this.hashAt.get(s.appliedIndex);
      if (!seen) this.hashAt.set(s.appliedIndex, { hash, by: p.id });
      else if (seen.hash !== hash) {
        const who = seen.by === p.id ? `${p.id} (after a restart) and ${p.id} (before)` : `${p.id} and ${seen.by}`;
        this.fail('tables agree at equal applied index', `${who} differ at index ${s.appliedIndex}`);
      }
      for (const a of this.acks) {
        if (a.index <= s.appliedIndex && state.nodes[a.nodeId] === undefined) {
          this.fail('acknowledged write lost', `${p.id} applied index ${s.appliedIndex} but has no ${a.nodeId}, acknowledged at ${a.index}`);
          break;
        }
      }
      for (const n of Object.values(state.nodes)) {
        if (n.status === 'unhealthy' && !this.confirmedFailures.has(n.id)) this.fail('failure needs a majority', `${p.id} has ${n.id} unhealthy, never confirmed by a majority`);
      }
      for (const sh of state.shards) {
        const first = this.firstInSyncAt.get(sh.id);
        if (sh.inSync.length > 0) {
          if (first === undefined || s.appliedIndex < first) this.firstInSyncAt.set(sh.id, s.appliedIndex);
        } else if (first !== undefined && s.appliedIndex >= first) {
          this.fail('a shard keeps an in-sync copy', `${p.id} at ${s.appliedIndex}: shard ${sh.id} has no in-sync copy left (it had one at ${first})`);
        }
      }
      const broken = invariantViolations(state);
      if (broken.length > 0) this.fail('table invariants', `${p.id} at ${s.appliedIndex}: ${broken[0]}`);
    }
  }

  private converged(): boolean {
    const statuses = this.procs.map((p) => (this.running(p) ? p.replica!.status() : undefined));
    if (statuses.some((s) => s === undefined)) return false;
    const first = statuses[0]!;
    if (!first.leader) return false;
    return statuses.every((s) => s!.leader === first.leader && s!.appliedIndex === first.appliedIndex && s!.commitIndex === first.commitIndex && s!.stateHash === first.stateHash);
  }

  private async finalCheck(): Promise<void> {
    for (const p of this.procs) {
      const { state } = await p.replica!.read('stale');
      const missing = this.acks.find((a) => state.nodes[a.nodeId] === undefined);
      if (missing) this.fail('acknowledged write lost', `${p.id} ends without ${missing.nodeId}, acknowledged at ${missing.index}`);
    }
  }

  private describeReplicas(): string {
    return this.procs
      .map((p) => {
        if (!p.alive || !p.replica) return `${p.id} down`;
        const s = p.replica.status();
        return `${p.id} ${s.role} t${s.term} leader ${s.leader || '-'} commit ${s.commitIndex} applied ${s.appliedIndex}`;
      })
      .join('; ');
  }

  private fail(property: string, detail: string): void {
    if (this.violations.length >= 10) return;
    this.violations.push({ property, atMs: this.nowMs, detail });
    this.note(`VIOLATION ${property}: ${detail}`);
  }

  private note(line: string): void {
    const l = `${String(this.nowMs).padStart(6)} ms  ${line}`;
    this.opts.trace?.(l);
    this.traceLines.push(l);
    if (this.traceLines.length > TRACE_LINES) this.traceLines.shift();
  }
}

export function runSystemSeed(opts: SystemSimOptions): Promise<SystemSimResult> {
  return new SystemSimulator(opts).run();
}
