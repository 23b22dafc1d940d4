/**
 * The leader-only health monitor (DESIGN.md §5). While this replica leads it
 * probes every node of the table that has not left, one probe in flight per
 * node, and acts on what it sees, each action a committed command:
 *
 * - a node `unknown` whose probe answers is marked healthy; a node
 *   `unhealthy` is marked healthy once it answers *and* holds a valid lease
 *   (it renewed: it really is back);
 * - a node failing `failureThreshold` probes in a row is *suspect* (here
 *   only); the other voters are asked to probe it too (at most once per
 *   probe interval), and it is declared unhealthy only with a majority of
 *   them (this replica counted) having seen it fail, none having reached it,
 *   its last lease run out, this replica leading for a lease period and
 *   having probed every node, and the storm guard not objecting.
 *
 * A renewal is the node's own answer: a node the table calls healthy (or
 * the operator manages) that renewed within the last probe interval and
 * timeout is not probed; probes go to the silent ones, and to unknown and
 * unhealthy nodes, whose address must answer before they are marked healthy.
 * So a leader with many live nodes spends on renewals what it once spent on
 * renewals and probes together (README, "The leader's load").
 *
 * The leader's one event loop also runs Raft: a round costs a pass over the
 * tracked nodes (no per-suspect scan of all of them), rounds come at most
 * every probe interval / 25 unless something needs an answer now, and a
 * round starts at most MAX_PROBES_PER_ROUND probes, yielding to the event
 * loop before the next batch. A node's first probe is spread over one
 * interval when many arrive at once (a new leader, a fleet registering).
 *
 * Everything here is leader-local and dropped when leadership is: a new
 * leader starts from nothing. Settings are read from the table every round.
 */
import type { HealthSettings } from '../../config/index.js';
import type { HealthMetrics, Logger } from '../../observability/index.js';
import type { NodeLink } from '../node-link.js';
import { statusRules, type Command, type RoutingEvent, type RoutingState } from '../routing/index.js';
import type { CoordinatorService } from '../service.js';
import { confirmationRound } from './confirmation-round.js';
import { afterProbe, decidable, explained, newNodeHealth, withTableStatus, type LocalStatus, type NodeHealth, type ProbePath, type ProbeResult } from './detector.js';
import { probeNode } from './probe.js';
import { RoundTimer } from './round-timer.js';
import type { ReplicaLink } from './replica-link.js';
import { stormCounts, stormGuardRefusal, stormGuardRefusalOf } from './storm-guard.js';
import type { Tally } from './tally.js';
import { systemClock, type Clock, type Timers } from '../../common/clock.js';

export interface HealthMonitorOptions {
  /** A replica asked to confirm gets this much beyond the probe timeout to answer (default 300). */
  readonly confirmSlackMs?: number;
}

export interface HealthMonitorModules {
  readonly service: CoordinatorService;
  readonly nodeLink: NodeLink;
  /** Absent: no other replica can be asked, so only a single-voter cluster ever decides. */
  readonly replicaLink?: ReplicaLink | undefined;
  /** The lease table's answers: from when on the node is certainly not serving under a lease; when it last renewed. */
  readonly leases: { fencedAtMs(nodeId: string, leaseMs: number): number; renewedAtMs(nodeId: string): number | undefined };
  readonly logger: Logger;
  readonly metrics?: HealthMetrics | undefined;
  readonly clock?: Clock;
  readonly timers?: Timers;
}

/** One node as the leader sees it, for `/nodes`. */
export interface NodeHealthView {
  readonly status: LocalStatus;
  readonly lastSuccessfulProbeMs: number | null;
  readonly lastSuccessfulProbeAgoMs: number | null;
  readonly consecutiveFailures: number;
  readonly path: ProbePath;
  readonly changedAtMs: number;
  readonly reason: string;
}

interface Tracked {
  /** The table's record this was last synced with. */
  record: RoutingState['nodes'][string];
  health: NodeHealth;
  address: string;
  probing: boolean;
  /** A confirmation round or a proposal in flight. */
  acting: boolean;
  /** No confirmation round before this (one per probe interval while suspect). */
  nextRoundMs: number;
  /** No proposal before this (one per probe interval: a refused or failed one is not retried in a loop). */
  nextProposalMs: number;
  /** The last round that confirmed the failure, while it is fresh enough to decide on. */
  confirmed: { readonly tally: Tally; readonly atMs: number } | null;
  /** What holds the decision back (storm guard, no majority, a refutation): logged when it changes, shown in healthReasons. */
  holdback: string | null;
  /** A future time at which the node wants to be looked at again (lease end, next round). */
  wakeMs: number;
}

const DEFAULT_CONFIRM_SLACK_MS = 300;
/** Probes started by one round; the rest wait for the next turn of the event loop (Raft's messages and ticks come first). */
const MAX_PROBES_PER_ROUND = 32;
/** Rounds not asked for by an event come at most this many times per probe interval. */
const ROUNDS_PER_INTERVAL = 25;

/** What one round knows of all nodes, counted in one pass. */
interface RoundFacts {
  /** The storm guard's refusal for a suspect node (the same for every one: each already counts as failing), or undefined. */
  readonly stormRefusal: string | undefined;
  /** Every tracked node has been probed (or has renewed) since this leader started. */
  readonly allSeen: boolean;
}

/** Statuses whose nodes a renewal proves alive; unknown and unhealthy ones must answer a probe at their address. */
const renewalProves = (status: string): boolean => status !== 'unknown' && status !== 'unhealthy';
/** Errors quoted in a command's reason are cut here (reasons are bounded). */
const MAX_QUOTED_ERROR = 200;

const quote = (error: string | null): string => (error === null ? 'none' : error.length > MAX_QUOTED_ERROR ? `${error.slice(0, MAX_QUOTED_ERROR)}…` : error);
// Only what changes whom to probe, where, or how: a label update (the bench's write) must not start a round.
const ROUND_EVENTS: ReadonlySet<RoutingEvent['kind']> = new Set(['node-registered', 'node-updated', 'node-status', 'node-removed', 'settings-updated', 'member-added', 'member-promoted', 'member-removed']);
const nodeEvent = (e: RoutingEvent): boolean => ROUND_EVENTS.has(e.kind);

export class HealthMonitor {
  private readonly clock: Clock;
  private readonly tracked = new Map<string, Tracked>();
  private running = false;
  /** Bumped by start and stop: work of an earlier reign drops its results. */
  private generation = 0;
  private startedAtMs = 0;
  private latest: RoutingState | undefined;
  /** The table's nodes as last synced: a round re-reads them only when they changed. */
  private syncedNodes: RoutingState['nodes'] | undefined;
  private readonly rounds: RoundTimer;
  private readonly tasks = new Set<Promise<void>>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly opts: HealthMonitorOptions,
    private readonly modules: HealthMonitorModules,
  ) {
    this.clock = modules.clock ?? systemClock;
    this.rounds = new RoundTimer({
      round: () => this.tick(),
      nextDelayMs: () => this.nextWakeDelayMs(),
      failed: (e) => this.modules.logger.warn('health round failed', { error: e instanceof Error ? e.message : String(e) }),
      clock: this.clock,
      ...(modules.timers ? { timers: modules.timers } : {}),
    });
  }

  private schedule(delayMs: number): void {
    this.rounds.schedule(delayMs);
  }

  /** Starts probing (idempotent): called when this replica becomes leader. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.generation++;
    this.startedAtMs = this.clock.nowMs();
    this.tracked.clear();
    this.latest = undefined;
    this.syncedNodes = undefined;
    this.unsubscribe = this.modules.service.onEvent((e) => {
      if (nodeEvent(e)) this.schedule(0);
    });
    this.modules.logger.info('health monitor started');
    this.rounds.start();
    this.schedule(0);
  }

  /** Stops probing (idempotent), forgets every node, and waits for the probes and proposals in flight. */
  async stop(): Promise<void> {
    if (this.running) {
      this.running = false;
      this.generation++;
      this.unsubscribe?.();
      this.unsubscribe = undefined;
      this.tracked.clear();
      this.modules.logger.info('health monitor stopped');
    }
    await Promise.allSettled([this.rounds.stop(), ...this.tasks]);
  }

  /** The leader-local view of a node; null while not leading, or for a node not (yet) tracked. */
  view(nodeId: string): NodeHealthView | null {
    const t = this.running ? this.tracked.get(nodeId) : undefined;
    if (t === undefined) return null;
    const h = t.health;
    return {
      status: h.status,
      lastSuccessfulProbeMs: h.lastSuccessMs,
      lastSuccessfulProbeAgoMs: h.lastSuccessMs === null ? null : Math.max(0, this.clock.nowMs() - h.lastSuccessMs),
      consecutiveFailures: h.consecutiveFailures,
      path: h.path,
      changedAtMs: h.changedAtMs,
      reason: h.reason,
    };
  }

  /** Why failure decisions are held back, storm guard first; empty while not leading. */
  reasons(): string[] {
    if (!this.running) return [];
    const held = [...this.tracked.values()].map((t) => t.holdback).filter((r): r is string => r !== null);
    const storm = held.filter((r) => r.startsWith('storm guard'));
    return [...new Set([...storm, ...held.filter((r) => !r.startsWith('storm guard'))])];
  }

  /**
   * Until the earliest probe due or node waiting, at most one probe interval
   * (new nodes, changed settings), and at least interval / ROUNDS_PER_INTERVAL:
   * probes due within that slice share a round.
   */
  private nextWakeDelayMs(): number {
    const interval = this.latest?.config.settings.health.probeIntervalMs ?? 250;
    const now = this.clock.nowMs();
    let next = now + interval;
    for (const t of this.tracked.values()) {
      if (!t.probing && t.health.nextProbeMs < next) next = t.health.nextProbeMs;
      if (t.wakeMs > now && t.wakeMs < next) next = t.wakeMs;
    }
    return Math.max(Math.max(1, Math.floor(interval / ROUNDS_PER_INTERVAL)), next - now);
  }

  private current(generation: number): boolean {
    return generation === this.generation && this.running && this.modules.service.status().role === 'leader';
  }

  /** One round: the table's nodes in (when they changed), each due node heard from or probed, each node's decision looked at. */
  private async tick(): Promise<void> {
    const generation = this.generation;
    const { state } = await this.modules.service.read('stale');
    if (!this.current(generation)) return;
    this.latest = state;
    // A restored table may name holders that no longer hold the data: nobody is failed over until the leader has heard the nodes.
    if (state.restoring !== undefined) return;
    const settings = state.config.settings.health;
    const now = this.clock.nowMs();
    if (state.nodes !== this.syncedNodes) this.syncNodes(state, settings, now);
    const heardWithinMs = settings.probeIntervalMs + settings.probeTimeoutMs;
    let probes = 0;
    for (const [id, t] of this.tracked) {
      if (t.probing || now < t.health.nextProbeMs) continue;
      const renewed = renewalProves(t.health.tableStatus) ? this.modules.leases.renewedAtMs(id) : undefined;
      if (renewed !== undefined && now - renewed <= heardWithinMs) {
        this.heard(id, t, { ok: true, leaseValid: true }, settings);
        // Looked at again the moment it would fall silent, so a probe follows silence at once.
        t.health = { ...t.health, nextProbeMs: Math.max(now + 1, renewed + heardWithinMs + 1) };
      } else if (probes < MAX_PROBES_PER_ROUND) {
        probes++;
        this.launch(this.probe(id, t, generation, settings));
      } else {
        // The rest in the next round, after the event loop had its turn.
        this.schedule(0);
        break;
      }
    }
    const facts = this.roundFacts(state.config.settings.minHealthyFraction);
    for (const [id, t] of this.tracked) this.consider(id, t, state, generation, facts);
  }

  private roundFacts(minHealthyFraction: number): RoundFacts {
    let allSeen = true;
    for (const t of this.tracked.values()) {
      if (t.health.lastProbeMs === null) {
        allSeen = false;
        break;
      }
    }
    const storm = stormCounts(Array.from(this.tracked.values(), (t) => t.health));
    return { stormRefusal: stormGuardRefusalOf(storm, undefined, minHealthyFraction), allSeen };
  }

  private syncNodes(state: RoutingState, settings: HealthSettings, now: number): void {
    this.syncedNodes = state.nodes;
    const present = new Set<string>();
    const added: Tracked[] = [];
    // Own properties only (ids are object keys); no order needed here, so no sort of thousands of ids per change.
    for (const node of Object.values(state.nodes)) {
      if (!statusRules(node.status).probed) continue;
      present.add(node.id);
      const t = this.tracked.get(node.id);
      if (t === undefined) {
        const fresh: Tracked = { record: node, health: newNodeHealth(node, now), address: node.address, probing: false, acting: false, nextRoundMs: 0, nextProposalMs: 0, confirmed: null, holdback: null, wakeMs: 0 };
        this.tracked.set(node.id, fresh);
        added.push(fresh);
        continue;
      }
      // The table's records are immutable: the same object is the same node (a label write elsewhere changes nothing here).
      if (t.record === node) continue;
      t.record = node;
      t.address = node.address;
      const before = t.health.tableStatus;
      t.health = withTableStatus(t.health, node, settings);
      if (before !== node.status) {
        t.confirmed = null;
        t.holdback = null;
      }
    }
    for (const id of [...this.tracked.keys()]) if (!present.has(id)) this.tracked.delete(id);
    // Many new at once (a new leader, a fleet registering): their first probes spread over one interval, not one burst.
    if (added.length > 1) added.forEach((t, i) => (t.health = { ...t.health, nextProbeMs: now + Math.floor((i * settings.probeIntervalMs) / added.length) }));
  }

  private launch(task: Promise<void>): void {
    const tracked = task.catch((e: unknown) => this.modules.logger.warn('health task failed', { error: e instanceof Error ? e.message : String(e) }));
    this.tasks.add(tracked);
    void tracked.finally(() => this.tasks.delete(tracked));
  }

  private async probe(id: string, t: Tracked, generation: number, settings: HealthSettings): Promise<void> {
    t.probing = true;
    let lookNow = false;
    try {
      const result = await probeNode({ nodeId: id, address: t.address }, settings.probeTimeoutMs, { nodeLink: this.modules.nodeLink, metrics: this.modules.metrics, clock: this.clock, timers: this.modules.timers });
      if (!this.current(generation) || this.tracked.get(id) !== t) return;
      // The settings of now, not of when the probe left: a change applied meanwhile counts.
      lookNow = this.heard(id, t, result, this.latest?.config.settings.health ?? settings);
    } finally {
      t.probing = false;
    }
    // Only an answer that calls for an action brings the next round forward; the others wait for it.
    if (lookNow) this.schedule(0);
  }

  /** A probe's result (or a renewal, as an answer) in the node's record; whether the node now needs a look (a decision or a recovery). */
  private heard(id: string, t: Tracked, result: ProbeResult, settings: HealthSettings): boolean {
    const before = t.health;
    t.health = afterProbe(before, result, settings, this.clock.nowMs());
    if (t.health.status === 'suspect' && before.status !== 'suspect') {
      this.modules.metrics?.suspicions.inc({ node: id });
      this.modules.logger.warn('node suspect', { node: id, reason: t.health.reason, failures: t.health.consecutiveFailures });
      return true;
    }
    if (before.status === 'suspect' && t.health.status !== 'suspect') {
      t.confirmed = null;
      t.holdback = null;
      this.modules.logger.info('suspicion cleared', { node: id, reason: t.health.reason });
      return true;
    }
    return result.ok && (t.health.tableStatus === 'unknown' || t.health.tableStatus === 'unhealthy') && before.lastSuccessMs === null;
  }

  /** Whatever the node's state calls for now: a recovery, a confirmation round, a failure decision, or nothing. */
  private consider(id: string, t: Tracked, state: RoutingState, generation: number, facts: RoundFacts): void {
    if (t.acting) return;
    const h = t.health;
    const answered = h.lastSuccessMs !== null && h.consecutiveFailures === 0;
    if (answered && (h.tableStatus === 'unknown' || h.tableStatus === 'unhealthy')) this.considerRecovery(id, t, state, generation);
    else if (h.status === 'suspect') this.considerFailure(id, t, state, generation, facts);
  }

  private considerRecovery(id: string, t: Tracked, state: RoutingState, generation: number): void {
    const h = t.health;
    const now = this.clock.nowMs();
    if (h.tableStatus === 'unhealthy' && h.leaseValid !== true) {
      const reason = `${id} answers probes again but holds no valid lease yet; marked healthy once it renews`;
      if (h.reason !== reason) this.modules.logger.info('node answers, waiting for its lease', { node: id });
      t.health = explained(h, reason, 'ok', now);
      return;
    }
    if (now < t.nextProposalMs) {
      t.wakeMs = t.nextProposalMs;
      return;
    }
    t.nextProposalMs = now + state.config.settings.health.probeIntervalMs;
    const reason = h.tableStatus === 'unknown' ? 'first probe answered' : 'probe answered and the node holds a valid lease again';
    const command: Command = { type: 'setNodeStatus', atMs: now, reason, nodeId: id, status: 'healthy', expectedStatus: h.tableStatus };
    this.act(t, generation, async () => {
      const outcome = await this.modules.service.propose(command);
      if (outcome.ok) {
        this.modules.logger.info('node marked healthy', { node: id, was: h.tableStatus, reason });
        await this.refresh(generation);
      } else this.modules.logger.info('marking a node healthy refused', { node: id, code: outcome.code, refusal: outcome.message });
    });
  }

  private considerFailure(id: string, t: Tracked, state: RoutingState, generation: number, facts: RoundFacts): void {
    const settings = state.config.settings.health;
    const now = this.clock.nowMs();
    if (!decidable(t.health.tableStatus)) return;
    // A new leader knows nothing of its predecessor's leases or probes: it first waits a lease and sees every node once.
    const settledAtMs = this.startedAtMs + settings.leaseMs;
    if (now < settledAtMs || !facts.allSeen) {
      t.health = explained(t.health, `new leader: no failure decision in its first lease period (${settings.leaseMs} ms) or before every node was probed`, 'ok', now);
      t.wakeMs = settledAtMs;
      return;
    }
    const storm = facts.stormRefusal;
    if (storm !== undefined) {
      this.holdBack(id, t, storm, 'storm_guard', 'ok');
      return;
    }
    if (t.holdback?.startsWith('storm guard')) t.holdback = null;
    const fresh = t.confirmed !== null && now - t.confirmed.atMs <= settings.probeIntervalMs + settings.probeTimeoutMs;
    if (!fresh) {
      if (now < t.nextRoundMs) {
        t.wakeMs = t.nextRoundMs;
        return;
      }
      t.nextRoundMs = now + settings.probeIntervalMs;
      this.act(t, generation, () => this.runRound(id, t, state, generation));
      return;
    }
    const tally = t.confirmed!.tally;
    const fencedAtMs = this.modules.leases.fencedAtMs(id, settings.leaseMs);
    if (now < fencedAtMs) {
      t.health = explained(t.health, `${tally.reason}; waiting for its lease to run out`, 'ok', now);
      t.wakeMs = fencedAtMs;
      return;
    }
    if (now < t.nextProposalMs) {
      t.wakeMs = t.nextProposalMs;
      return;
    }
    t.nextProposalMs = now + settings.probeIntervalMs;
    this.act(t, generation, () => this.decide(id, t, tally, generation));
  }

  private async runRound(id: string, t: Tracked, state: RoutingState, generation: number): Promise<void> {
    const self = this.modules.service.status().id;
    const timeoutMs = state.config.settings.health.probeTimeoutMs + (this.opts.confirmSlackMs ?? DEFAULT_CONFIRM_SLACK_MS);
    const { tally, votes } = await confirmationRound({ self, nodeId: id, address: t.address, timeoutMs }, state, {
      replicaLink: this.modules.replicaLink,
      metrics: this.modules.metrics,
      apiAddressOf: (r) => this.modules.service.apiAddressOf(r),
      timers: this.modules.timers,
    });
    if (!this.current(generation) || this.tracked.get(id) !== t || t.health.status !== 'suspect') return;
    const fields = { node: id, verdict: tally.verdict, confirmedBy: tally.confirmedBy, refutedBy: tally.refutedBy, unanswered: tally.unanswered, reason: tally.reason };
    if (tally.verdict === 'confirmed') {
      t.confirmed = { tally, atMs: this.clock.nowMs() };
      this.modules.logger.info('suspicion confirmed', fields);
      t.holdback = null;
      t.health = explained(t.health, tally.reason, 'ok', this.clock.nowMs());
      return;
    }
    t.confirmed = null;
    const silences = votes.flatMap((v) => ('unanswered' in v ? [`${v.replica}: ${v.unanswered}`] : []));
    const refuted = tally.verdict === 'refuted';
    this.holdBack(id, t, tally.reason, refuted ? null : 'no_majority', refuted ? 'degraded' : 'ok', silences.length > 0 ? { ...fields, silences } : fields);
  }

  /** Keeps the node suspect with a reason; logs and counts it when the reason is new. */
  private holdBack(id: string, t: Tracked, reason: string, outcome: 'storm_guard' | 'no_majority' | null, path: ProbePath, fields: Record<string, unknown> = {}): void {
    const now = this.clock.nowMs();
    t.health = explained(t.health, reason, path, now);
    // Unchanged: said already (with thousands of nodes held back, once per round each would flood the log).
    if (t.holdback === reason) return;
    // Still held by the storm guard, only its counts moved: shown updated, not logged again per node.
    const sameStorm = outcome === 'storm_guard' && t.holdback?.startsWith('storm guard') === true;
    t.holdback = reason;
    if (sameStorm) return;
    if (outcome !== null) this.modules.metrics?.failureDecisions.inc({ outcome });
    const msg = outcome === 'storm_guard' ? 'failure decision held back by the storm guard' : outcome === 'no_majority' ? 'confirmation round without a majority' : 'suspicion refuted: degraded path';
    this.modules.logger.warn(msg, { node: id, reason, ...fields });
  }

  /** The view follows a committed decision at once, not at the next round. */
  private async refresh(generation: number): Promise<void> {
    const { state } = await this.modules.service.read('stale');
    if (!this.current(generation)) return;
    this.latest = state;
    this.syncNodes(state, state.config.settings.health, this.clock.nowMs());
  }

  private async decide(id: string, t: Tracked, tally: Tally, generation: number): Promise<void> {
    const state = this.latest;
    if (state === undefined) return;
    const storm = stormGuardRefusal([...this.tracked.values()].map((n) => n.health), id, state.config.settings.minHealthyFraction);
    if (storm !== undefined) {
      this.holdBack(id, t, storm, 'storm_guard', 'ok');
      return;
    }
    const h = t.health;
    const reason = `${h.consecutiveFailures} consecutive probes failed (last: ${quote(h.lastError)}); confirmed by ${tally.confirmedBy.join(', ')} of ${tally.voters} replicas`;
    const command: Command = {
      type: 'setNodeStatus',
      atMs: this.clock.nowMs(),
      reason,
      nodeId: id,
      status: 'unhealthy',
      confirmedBy: [...tally.confirmedBy],
      voters: tally.voters,
      expectedStatus: h.tableStatus,
    };
    // Used once: a refused or failed decision is confirmed afresh before the next.
    t.confirmed = null;
    const outcome = await this.modules.service.propose(command);
    if (outcome.ok) {
      this.modules.metrics?.failureDecisions.inc({ outcome: 'committed' });
      this.modules.logger.warn('node declared unhealthy', { node: id, reason, confirmedBy: tally.confirmedBy, voters: tally.voters });
      await this.refresh(generation);
      return;
    }
    if (outcome.code === 'STORM_GUARD') this.holdBack(id, t, `storm guard: ${outcome.message}`, 'storm_guard', 'ok');
    else if (outcome.code === 'NO_MAJORITY') this.holdBack(id, t, outcome.message, 'no_majority', 'ok');
    else this.modules.logger.info('failure decision refused', { node: id, code: outcome.code, refusal: outcome.message });
  }

  /** Runs one action of a node (never two at once), then looks again. */
  private act(t: Tracked, generation: number, action: () => Promise<void>): void {
    t.acting = true;
    const run = async () => {
      try {
        if (this.current(generation)) await action();
      } finally {
        t.acting = false;
        this.schedule(0);
      }
    };
    this.launch(run());
  }
}
