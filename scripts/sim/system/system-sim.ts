/**
 * The control plane under deterministic simulation: the world and its step
 * loop, all decided by one seed. Coordinator replicas run the production
 * CoordinatorReplica (Ready loop, batched reads, leadership transfer, the
 * routing table's apply) and NodeControl (leases, health monitor,
 * confirmations, placement driver with fencing) over a simulated clock,
 * timers, network and disk; the data nodes are models (node-leases.ts,
 * node-writes.ts). Each step: faults (faults.ts), the client and the
 * operator (client.ts, admin-workload.ts), messages, timers and disk
 * writes, then the checks (checks.ts). After the faulty phase everything
 * heals and, within a bound, the replicas must converge and every shard be
 * served by a primary with all its copies in sync.
 */
import { NodeControl } from '../../../src/coordinator/node-control.js';
import { planPlacement } from '../../../src/coordinator/placement/index.js';
import { CoordinatorReplica } from '../../../src/coordinator/replica.js';
import { SimTime } from '../../../src/common/sim-time.js';
import type { Timers } from '../../../src/common/clock.js';
import { initialState, type RoutingState } from '../../../src/coordinator/routing/index.js';
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
import { fencingWithoutLease, MISMATCHED_SHARDS, plantedDisk } from './planted.js';
import { Checks } from './checks.js';
import { Client } from './client.js';
import { Faults } from './faults.js';
import { DEFAULT_FAULT_MS, DEFAULT_HEAL_MS, drawProfile, ELECTION_TICKS, HEARTBEAT_TICKS, STEP_MS, TICK_MS, type Profile } from './profile.js';
import { emptyStats, replayFlags, type SystemSimOptions, type SystemSimResult, type SystemStats } from './sim-result.js';
import { Trace } from './trace.js';
import { adminWorld, leaseWorld, linkWorld, writeWorld } from './sim-worlds.js';

/** The lease of the cluster settings (their default): the nodes renew every third of it. */
const LEASE_MS = 1_000;
/** The placement planner assigns the shards' first copies at most this long after the first node registered. */
const FIRST_ASSIGNMENT_GRACE_MS = 1_000;

export type { SystemSimOptions, SystemSimResult, SystemStats, SystemViolation } from './sim-result.js';
export { DEFAULT_FAULT_MS, DEFAULT_HEAL_MS, STEP_MS } from './profile.js';

export interface Proc {
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
export interface DataNode {
  readonly id: string;
  readonly address: string;
  downUntilStep: number;
  /** The last step at which no majority of the replicas reached it (up, links whole); -1: never. */
  unreachedAtStep: number;
}

const drain = (): Promise<void> => new Promise((r) => setImmediate(r));

export class SystemSimulator {
  readonly rng: SeededRng;
  readonly profile: Profile;
  readonly network: SimNetwork;
  readonly procs: Proc[] = [];
  readonly ids: string[];
  readonly table: RoutingState;
  readonly raftSettings;
  readonly disk: DiskBehaviour;
  /** The table the last replica starts from in the mismatched-table variant. */
  readonly mismatchedTable: RoutingState | undefined;
  writes: DiskWrite[] = [];
  step = 0;
  readonly trace: Trace;
  readonly stats: SystemStats = emptyStats();
  /** Wall time of the placement planner's rounds. */
  readonly planCost = { rounds: 0, totalMs: 0, maxMs: 0 };
  /** Wall time of the NodeControl timer callbacks (see measuredTimers). */
  readonly controlCost = { callbacks: 0, totalMs: 0, maxMs: 0 };
  healed = false;
  readonly dataNodes = new Map<string, DataNode>();
  /** Cut replica↔node links (`replica|node`) and when they heal. */
  nodeCuts = new Map<string, number>();
  readonly links: LinkWorld;
  /** True time, for what travels outside any process (an answer on its way to a node). */
  readonly worldTime = new SimTime(0);
  readonly leases: NodeLeases;
  readonly writesModel: NodeWrites;
  readonly admin: AdminWorkload;
  readonly faults: Faults;
  readonly workload: Client;
  readonly checks: Checks;

  constructor(readonly opts: SystemSimOptions) {
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
    this.links = linkWorld(this);
    this.leases = leaseWorld(this, opts.variant === 'lease-from-receipt');
    this.writesModel = writeWorld(this);
    this.admin = adminWorld(this);
    this.trace = new Trace(() => this.nowMs, opts.trace);
    this.faults = new Faults(this);
    this.workload = new Client(this);
    this.checks = new Checks(this);
    for (const id of this.ids) {
      this.procs.push({ id, store: new MemoryStorage(), time: new SimTime(0), replica: undefined, control: undefined, incarnation: 0, alive: false, pausedUntilStep: 0, restartAtStep: 0, checkedIndex: -1, slowDiskUntilStep: 0 });
    }
  }

  nodeUp(n: DataNode): boolean {
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
    this.workload.initialNodes = this.opts.nodes ?? 8;
    let convergedAfterMs: number | undefined;
    let inSyncAfterMs: number | undefined;
    let probe: { nodeId: string; acked: boolean } | undefined;
    for (let i = 0; i < faultSteps + healSteps && this.trace.violations.length === 0; i++) {
      this.step++;
      if (i === faultSteps) this.faults.heal();
      if (!this.healed) this.faults.injectFaults();
      await this.restartDue();
      const asked = this.workload.step();
      // Only a step in which something happened has continuations to run.
      if (this.deliver() + this.advanceTimers() + asked > 0) await drain();
      await this.completeWrites();
      this.trackReach();
      this.worldTime.advanceTo(this.nowMs);
      this.leases.step(LEASE_MS);
      this.writesModel.catchUp();
      await drain();
      await this.checks.check();
      this.stats.servedShardSteps += this.leases.check();
      if (this.checks.newest !== undefined) this.writesModel.check(this.checks.newest.state, this.checks.newest.index);
      if (this.healed && probe === undefined && this.leader()) {
        probe = { nodeId: `probe`, acked: false };
        const pr = probe;
        this.workload.propose(this.leader()!, this.workload.register('probe'), (ok) => (pr.acked = ok));
      }
      if (this.healed && probe && !probe.acked && this.step % 200 === 0 && this.leader()) {
        const pr = probe;
        this.workload.propose(this.leader()!, this.workload.register('probe'), (ok) => (pr.acked ||= ok));
      }
      if (this.healed && probe?.acked && convergedAfterMs === undefined && this.checks.converged()) convergedAfterMs = (i - faultSteps) * STEP_MS;
      // Then, within the same bound, every shard served by a primary with all its copies in sync (the replicas equal again at that step, for the final check).
      if (convergedAfterMs !== undefined && this.checks.converged() && this.checks.notInSync().length === 0) {
        inSyncAfterMs = (i - faultSteps) * STEP_MS;
        break;
      }
    }
    if (this.trace.violations.length === 0 && convergedAfterMs === undefined) {
      this.fail('liveness after healing', `no convergence within ${healSteps * STEP_MS} ms of healing: ${this.checks.describeReplicas()}`);
    } else if (this.trace.violations.length === 0 && inSyncAfterMs === undefined) {
      const lagging = this.checks.notInSync();
      this.fail('all copies in sync after healing', `not within ${healSteps * STEP_MS} ms of healing: ${lagging.slice(0, 4).join('; ')}${lagging.length > 4 ? ` (and ${lagging.length - 4} more)` : ''}`);
    }
    if (this.trace.violations.length === 0) await this.checks.finalCheck();
    for (const p of this.procs) if (p.alive) this.kill(p);
    this.stats.messages = this.network.sent;
    this.stats.leaseGrants = this.leases.granted;
    this.stats.adminOperations = this.admin.operations;
    this.stats.writes = this.writesModel.stats.writes;
    this.stats.writesAcked = this.writesModel.stats.acked;
    this.stats.inSyncRemovals = this.writesModel.stats.removals;
    this.stats.inSyncJoins = this.writesModel.stats.joins;
    this.stats.dropped = this.network.dropped;
    return {
      seed: this.opts.seed,
      replicas: this.opts.replicas,
      variant: this.opts.variant ?? 'none',
      flags: replayFlags(this.opts),
      violations: this.trace.violations,
      convergedAfterMs,
      inSyncAfterMs,
      simulatedMs: this.nowMs,
      stats: this.stats,
      controlCost: this.controlCost,
      planCost: this.planCost,
      wallMs: performance.now() - startedWallMs,
      trace: this.trace.lines,
    };
  }

  // -------------------------------------------------------------------
  // The world
  // -------------------------------------------------------------------

  proc(id: string): Proc {
    return this.procs.find((p) => p.id === id)!;
  }

  running(p: Proc): boolean {
    return p.alive && p.pausedUntilStep <= this.step && p.replica !== undefined;
  }

  async startProc(p: Proc): Promise<void> {
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
        service: this.checks.watched(replica),
        nodeLink: simNodeLink(p.id, incarnation, p.time, this.links),
        replicaLink: simReplicaLink(p.id, incarnation, p.time, this.links),
        logger: silentLogger,
        clock: p.time,
        timers: this.measuredTimers(p),
        // The client registers nodes all along (they are its writes), which would hold the first assignment
        // back for the whole default grace: a short one gives the shards copies within the first second.
        plan: (state, input) => this.timedPlan(() => planPlacement(state, { ...input, graceMs: FIRST_ASSIGNMENT_GRACE_MS })),
        ...(this.opts.variant === 'promotion-without-lease' ? { fencing: fencingWithoutLease } : {}),
      },
    );
    await drain();
  }

  /** One round of the placement planner, its wall time counted (the leader's plan cost). */
  timedPlan<T>(plan: () => T): T {
    const started = performance.now();
    const steps = plan();
    const ms = performance.now() - started;
    const c = this.planCost;
    c.rounds++;
    c.totalMs += ms;
    c.maxMs = Math.max(c.maxMs, ms);
    return steps;
  }

  /**
   * The replica's timers as its NodeControl gets them: each callback's wall
   * time is counted (health rounds, probe and confirmation deadlines), as
   * the cost of the leader's duties besides Raft.
   */
  measuredTimers(p: Proc): Timers {
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

  /** A crash: the process is gone with its timers, its socket buffers and every write not synced. */
  kill(p: Proc): void {
    p.alive = false;
    p.replica = undefined;
    p.control = undefined;
    p.time.cancelAll();
    p.store.crash();
    this.network.dropTo(p.id);
    this.writes = this.writes.filter((w) => w.owner !== p.id);
  }

  /** Which nodes a majority of the replicas does not reach now (crashed replicas reach nothing). */
  trackReach(): void {
    for (const n of this.dataNodes.values()) {
      if (this.nodeUp(n)) this.leases.up(n.id);
      const reaching = this.procs.filter((p) => p.alive && !this.nodeCuts.has(`${p.id}|${n.id}`)).length;
      if (!this.nodeUp(n) || this.leases.paused(n.id) || reaching * 2 <= this.procs.length) n.unreachedAtStep = this.step;
    }
  }

  async restartDue(): Promise<void> {
    for (const p of this.procs) {
      if (p.alive || p.restartAtStep > this.step) continue;
      this.note(`restart ${p.id}`);
      await this.startProc(p);
    }
  }

  /** Delivers the messages due now; returns how many. */
  deliver(): number {
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
  advanceTimers(): number {
    let fired = 0;
    for (const p of this.procs) if (this.running(p)) fired += p.time.advanceTo(this.nowMs);
    return fired;
  }

  /** Completes the disk writes due now (a write answered now may cause another, completed now if the disk is fast). */
  async completeWrites(): Promise<void> {
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

  // -------------------------------------------------------------------
  // The checks
  // -------------------------------------------------------------------

  leader(): Proc | undefined {
    let best: Proc | undefined;
    for (const p of this.procs) {
      if (!this.running(p)) continue;
      const s = p.replica!.status();
      if (s.role === 'leader' && (!best || s.term > best.replica!.status().term)) best = p;
    }
    return best;
  }

  fail(property: string, detail: string): void {
    this.trace.fail(property, detail);
  }

  note(line: string): void {
    this.trace.note(line);
  }
}

export function runSystemSeed(opts: SystemSimOptions): Promise<SystemSimResult> {
  return new SystemSimulator(opts).run();
}
