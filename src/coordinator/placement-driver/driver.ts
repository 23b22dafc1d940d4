/**
 * The placement driver: the leader's loop that carries out what the
 * placement planner (src/coordinator/placement) says, one routing-table
 * command at a time. It runs only while this replica leads, every
 * `intervalMs` and soon after any applied change of nodes, shards or settings.
 *
 * Every step is a compare-and-set on the shard's epoch, so a plan made on a
 * table that moved on is refused, never applied twice: the round stops at the
 * first refusal and the next round plans again on the new table. A step that
 * takes the primary role from a node waits until that node is fenced
 * (fencing.ts); the steps of other shards go on meanwhile.
 *
 * Balancing (rule 6) runs only while a rebalance is requested: by
 * `requestRebalance` (POST /cluster/rebalance), or by a new node registering
 * (a node the table did not hold, or one that had left), so that it gets
 * shards. A node that comes back from `unhealthy` (a status change, or a
 * re-registration of a known node) requests nothing: nothing is moved back to
 * it by itself. The request is leader-local, like the driver: it clears once
 * a round finds nothing left to even out, and a new leader starts without one.
 */
import type { Logger } from '../../observability/index.js';
import { planPlacement, rebalanceSettled, type PlacementInput, type PlannedStep } from '../placement/index.js';
import { acceptsNewCopies, nodeById, type Command, type RoutingEvent, type RoutingState } from '../routing/index.js';
import type { LoadInput } from '../placement/index.js';
import { HotTracker } from './hot-tracker.js';
import type { CoordinatorService } from '../service.js';
import type { FenceResult, Fencing } from './fencing.js';
import { shardOf, stepFields, waitKey } from './step-subject.js';
import { realTimers, systemClock, type Clock, type Timer, type Timers } from '../../common/clock.js';

export type PlanFunction = (state: RoutingState, input: PlacementInput) => PlannedStep[];

export interface PlacementDriverOptions {
  /** A round at least this often while leading (default 200). */
  readonly intervalMs?: number;
  /** A change applied is followed by a round this soon, changes in a burst by one round (default 20). */
  readonly debounceMs?: number;
  /** Steps planned and carried out in one round at most (default 32); the rest are planned by the next round. */
  readonly maxStepsPerRound?: number;
  /** No new step is begun after a round has run this long (default 5000). */
  readonly roundDeadlineMs?: number;
  /**
   * At most this share of the leader's time goes to planning (default 0.1):
   * a plan that took P ms is followed by at least P × (1 − share) / share
   * before the next. Planning is one synchronous call on the loop Raft
   * shares, and on a large table (4,096 shards) it takes 5–30 ms; planned
   * 20 ms after every change, it took half the leader's time under a stream
   * of label writes. A small table's plan takes well under a millisecond, so
   * its rounds keep their pace.
   */
  readonly maxPlanningShare?: number;
}

export interface PlacementDriverModules {
  readonly service: CoordinatorService;
  readonly fencer: Fencing;
  readonly logger: Logger;
  /** The planner (default planPlacement); tests pass their own. */
  readonly plan?: PlanFunction;
  readonly clock?: Clock;
  readonly timers?: Timers;
  /** The load the nodes reported (requests per second per node and per shard), fresh reports only; absent: no load-based moves. */
  readonly loads?: (state: RoutingState) => MeasuredLoad;
}

export interface MeasuredLoad {
  /** Each node with a fresh report and its own total; load moves compare only these nodes, by the shards they lead now. */
  readonly nodes: ReadonlyMap<string, number>;
  readonly shards: ReadonlyMap<number, number>;
}

/** What one round did (for tests and the debug log). */
export interface RoundReport {
  readonly proposed: readonly Command[];
  /** Steps left waiting for their demoted primary to be fenced: `node/shard/epoch`. */
  readonly waiting: readonly string[];
  /** The refusal (or failure) that ended the round early, if one did. */
  readonly stoppedBy: string | null;
  /** Whether the round planned with balancing on (a rebalance was requested). */
  readonly rebalance: boolean;
  /** How many of `proposed` were balance steps (rule 6). */
  readonly balanceSteps: number;
}

/** What `requestRebalance` answers: the first round planned after the request, or null when none finished in time. */
export interface RebalanceReport {
  readonly round: RoundReport | null;
  /** The request is still open: more balance steps follow (a copy is being filled, then the surplus trimmed, then the next). */
  readonly pending: boolean;
}

const DEFAULT_INTERVAL_MS = 200;
const DEFAULT_DEBOUNCE_MS = 20;
const DEFAULT_MAX_PLANNING_SHARE = 0.1;
const DEFAULT_MAX_STEPS_PER_ROUND = 32;
const DEFAULT_ROUND_DEADLINE_MS = 5_000;
/** Waiting steps logged once each; the set is emptied when it grows past this. */
const MAX_WAITS_REMEMBERED = 1_024;
/** How long requestRebalance waits for the next round by default: a round's deadline, plus room for its last step. */
const DEFAULT_REBALANCE_ANSWER_MS = 10_000;

/** Events after which the plan may differ; membership changes of the coordinators do not change placement. */
const replans = (e: RoutingEvent): boolean => !e.kind.startsWith('member-');

/** A node new to the table (or back after it had left): it should get shards, which takes balancing. apply-node.ts names a known node's re-registration `node-updated`. */
const joins = (e: RoutingEvent): boolean => e.kind === 'node-registered';

/**
 * A promotion whose old primary handed off caught up (fenced, and every write
 * it stored reached every in-sync replica, the new primary among them)
 * leaves it an in-sync replica: a planned handoff costs no copy. The check
 * of the handoff's answer and the commit are ordered by the fence: the old
 * primary takes no write after answering.
 */
function plannedHandoff(command: Command, caughtUp: boolean): Command {
  if (command.type !== 'promotePrimary' || !caughtUp) return command;
  return { ...command, keepInSync: true };
}

interface RoundWaiter {
  readonly promise: Promise<RoundReport>;
  resolve(report: RoundReport): void;
  reject(e: unknown): void;
}

function roundWaiter(): RoundWaiter {
  let resolve!: (r: RoundReport) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<RoundReport>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

export class PlacementDriver {
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly plan: PlanFunction;
  private running = false;
  /** Bumped by start and stop: a round of an earlier reign stops at its next step. */
  private generation = 0;
  private timer: Timer | undefined;
  private timerDueMs = 0;
  private round: Promise<void> | undefined;
  /** A change arrived during the round in flight: the next one comes soon, not after a full interval. */
  private changedDuringRound = false;
  private unsubscribe: (() => void) | undefined;
  private readonly waitsLogged = new Set<string>();
  /** Bumped by every request (and by a node joining); 0 = none open. A round clears it only if no request came in since it read it. */
  private rebalanceAsked = 0;
  /** Who asked for the open rebalance, when the API checked credentials. */
  private rebalanceBy: string | undefined;
  private rebalanceCleared = 0;
  /** Requests made before the next round starts share its report (one waiter, however many requests). */
  private nextRoundWaiter: RoundWaiter | undefined;
  private readonly hot = new HotTracker();
  /** How long the last round's plan took (on the driver's clock): what the rest before the next round is counted from. */
  private lastPlanMs = 0;
  /** No round starts before this (the rest after the last plan, see maxPlanningShare), whatever asks for one. */
  private notBeforeMs = 0;

  constructor(
    private readonly opts: PlacementDriverOptions,
    private readonly modules: PlacementDriverModules,
  ) {
    this.clock = modules.clock ?? systemClock;
    this.timers = modules.timers ?? realTimers;
    this.plan = modules.plan ?? planPlacement;
  }

  /** Starts the loop (idempotent): called when this replica becomes leader. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.generation++;
    this.notBeforeMs = 0;
    this.unsubscribe = this.modules.service.onEvent((e) => {
      if (joins(e)) this.askRebalance(`${e.node ?? 'a node'} joined`);
      if (replans(e)) this.schedule(this.opts.debounceMs ?? DEFAULT_DEBOUNCE_MS);
    });
    this.modules.logger.info('placement driver started');
    this.schedule(0);
  }

  /** Stops the loop (idempotent) and waits for the round in flight, which stops at its next step. */
  async stop(): Promise<void> {
    if (this.running) {
      this.running = false;
      this.generation++;
      this.unsubscribe?.();
      this.unsubscribe = undefined;
      this.timer?.cancel();
      this.timer = undefined;
      // Leader-local: the next reign starts without a request (see the header).
      this.rebalanceCleared = this.rebalanceAsked;
      this.hot.clear();
      this.modules.logger.info('placement driver stopped');
    }
    await this.round;
    // No round will run for requests made after the last one started.
    this.nextRoundWaiter?.resolve(this.idleReport('leadership lost or driver stopped'));
    this.nextRoundWaiter = undefined;
  }

  /** Whether a rebalance is requested and not yet done. */
  get rebalancePending(): boolean {
    return this.rebalanceAsked !== this.rebalanceCleared;
  }

  /**
   * Turns balancing on until a round finds nothing to even out, and answers
   * with the first round planned after the request (null if none finished
   * within `timeoutMs`; the request stays open either way). Call it on the
   * leader only: a stopped driver answers a report that says so.
   */
  async requestRebalance(reason: string, timeoutMs = DEFAULT_REBALANCE_ANSWER_MS, by?: string): Promise<RebalanceReport> {
    if (!this.running) return { round: this.idleReport('not leading'), pending: false };
    this.askRebalance(reason, by);
    const waiter = (this.nextRoundWaiter ??= roundWaiter());
    this.schedule(0);
    let timer: Timer | undefined;
    const timedOut = new Promise<null>((resolve) => (timer = this.timers.after(timeoutMs, () => resolve(null))));
    try {
      const round = await Promise.race([waiter.promise, timedOut]);
      return { round, pending: this.rebalancePending };
    } finally {
      timer?.cancel();
    }
  }

  /** `by`: who asked (undefined: the driver itself, for a node that joined); the balance steps' events name the latest asker. */
  private askRebalance(reason: string, by?: string): void {
    if (!this.rebalancePending) this.modules.logger.info('rebalance requested', { reason, ...(by === undefined ? {} : { by }) });
    this.rebalanceAsked++;
    this.rebalanceBy = by;
  }

  private idleReport(stoppedBy: string): RoundReport {
    return { proposed: [], waiting: [], stoppedBy, rebalance: false, balanceSteps: 0 };
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.round !== undefined) {
      this.changedDuringRound = true;
      return;
    }
    const nowMs = this.clock.nowMs();
    const due = Math.max(nowMs + delayMs, this.notBeforeMs);
    if (this.timer !== undefined && this.timerDueMs <= due) return;
    this.timer?.cancel();
    this.timerDueMs = due;
    this.timer = this.timers.after(due - nowMs, () => this.fire());
  }

  private fire(): void {
    this.timer = undefined;
    if (!this.running) return;
    this.round = this.runRound()
      .then(
        (report) => {
          if (report.proposed.length > 0 || report.stoppedBy !== null) this.modules.logger.debug('placement round', { ...report, proposed: report.proposed.length });
        },
        (e: unknown) => this.modules.logger.warn('placement round failed', { err: e }),
      )
      .finally(() => {
        this.round = undefined;
        const soon = this.changedDuringRound;
        this.changedDuringRound = false;
        const share = this.opts.maxPlanningShare ?? DEFAULT_MAX_PLANNING_SHARE;
        this.notBeforeMs = this.clock.nowMs() + (this.lastPlanMs * (1 - share)) / share;
        this.schedule(soon ? (this.opts.debounceMs ?? DEFAULT_DEBOUNCE_MS) : (this.opts.intervalMs ?? DEFAULT_INTERVAL_MS));
      });
  }

  /** One round: plan on the applied table, carry the steps out in order. Public for tests. */
  async runRound(): Promise<RoundReport> {
    // Requests made before this round started are answered by it.
    const waiter = this.nextRoundWaiter;
    this.nextRoundWaiter = undefined;
    try {
      const report = await this.carryOutRound();
      waiter?.resolve(report);
      return report;
    } catch (e) {
      waiter?.reject(e);
      throw e;
    }
  }

  private async carryOutRound(): Promise<RoundReport> {
    const generation = this.generation;
    const proposed: Command[] = [];
    const waiting: string[] = [];
    let balanceSteps = 0;
    const asked = this.rebalanceAsked;
    const rebalance = this.rebalancePending;
    const report = (stoppedBy: string | null): RoundReport => ({ proposed, waiting, stoppedBy, rebalance, balanceSteps });
    const service = this.modules.service;
    const current = () => generation === this.generation && service.status().role === 'leader';
    if (!current()) return report('not leading');
    const deadline = this.clock.nowMs() + (this.opts.roundDeadlineMs ?? DEFAULT_ROUND_DEADLINE_MS);
    // The leader's applied table: at worst a little behind its commit index, which the epochs catch.
    const { state } = await service.read('stale');
    // A restored table may be older than the copies: nothing is placed or trimmed until the leader has heard the nodes.
    if (state.restoring !== undefined) return report('recovering from a restore');
    const load = this.loadInput(state);
    const maxSteps = this.opts.maxStepsPerRound ?? DEFAULT_MAX_STEPS_PER_ROUND;
    // Planning is one synchronous call on the event loop Raft shares: only this round's steps are planned.
    const input: PlacementInput = { nowMs: this.clock.nowMs(), rebalance, maxSteps, ...(load === undefined ? {} : { load }) };
    const planStartMs = this.clock.nowMs();
    const steps = this.plan(state, input).slice(0, maxSteps);
    this.lastPlanMs = this.clock.nowMs() - planStartMs;
    // A request made since this round read `asked` was made on a newer table: it stays open for the next round.
    if (rebalance && rebalanceSettled(state, steps) && asked === this.rebalanceAsked) {
      this.rebalanceCleared = asked;
      this.modules.logger.info('rebalance done: nothing left to even out');
    }
    for (const step of steps) {
      if (!current()) return report('leadership lost or driver stopped');
      if (this.clock.nowMs() > deadline) return report('round deadline');
      let command = step.balance === true && this.rebalanceBy !== undefined ? { ...step.command, by: this.rebalanceBy } : step.command;
      if (step.demotes !== null) {
        const fence = await this.fenceFor(state, step, step.demotes);
        if (!fence.fenced) {
          const subject = shardOf(step.command);
          waiting.push(subject === undefined ? step.demotes : waitKey(step.demotes, subject.shard, subject.epoch));
          continue;
        }
        if (!current()) return report('leadership lost or driver stopped');
        command = plannedHandoff(command, fence.caughtUp);
      }
      try {
        const outcome = await service.propose(command);
        if (!outcome.ok) {
          if (step.demotes !== null) this.release(step, step.demotes);
          this.modules.logger.info('placement step refused; planning again next round', { ...stepFields(step), code: outcome.code, refusal: outcome.message });
          return report(`${step.command.type} refused: ${outcome.code}`);
        }
      } catch (e) {
        this.modules.logger.warn('placement step not committed; planning again next round', { ...stepFields(step), error: e instanceof Error ? e.message : String(e) });
        return report(`${step.command.type} failed`);
      }
      proposed.push(command);
      if (step.balance === true) balanceSteps++;
      if (step.hotNode !== undefined) this.hot.moved(step.hotNode, this.clock.nowMs());
      this.modules.logger.info('placement step', stepFields(step));
    }
    return report(null);
  }

  private release(step: PlannedStep, demotes: string): void {
    const subject = shardOf(step.command);
    if (subject !== undefined) this.modules.fencer.release(demotes, subject.shard, subject.epoch);
  }

  /**
   * The loads and the nodes hot now (rule 7), when the nodes report load.
   * Passed with no node hot too: the trim that ends a relocation for load
   * reads them (which copy of the surplus goes).
   */
  private loadInput(state: RoutingState): LoadInput | undefined {
    const measured = this.modules.loads?.(state);
    if (measured === undefined) return undefined;
    // Only nodes that may take load are compared (a node in maintenance is emptying anyway).
    const nodes = new Map<string, number>();
    for (const id of measured.nodes.keys()) if (acceptsNewCopies(nodeById(state, id)?.status ?? 'left')) nodes.set(id, 0);
    // A node's load is that of the shards it leads now. Its own report is a 10 s window, which after a move
    // still holds the load it handed over (and its receiver's not yet): deciding on it would move load twice
    // or onto a node that only looks cool. A shard's load summed over its reporters stays right across a move.
    for (const s of state.shards) if (s.primary !== null && nodes.has(s.primary)) nodes.set(s.primary, (nodes.get(s.primary) ?? 0) + (measured.shards.get(s.id) ?? 0));
    const hot = this.hot.observe(nodes, state.config.settings.placement, this.clock.nowMs());
    if (hot.length > 0) this.modules.logger.info('hot nodes', { hot });
    return { nodes, shards: measured.shards, hot };
  }

  /** Fences the node a step demotes, logging once per node, shard and epoch why it must wait. */
  private async fenceFor(state: RoutingState, step: PlannedStep, demotes: string): Promise<FenceResult> {
    const subject = shardOf(step.command);
    if (subject === undefined) {
      // The planner demotes only through shard commands; anything else is a planner bug, not a reason to guess.
      this.modules.logger.error('placement step demotes a node without naming a shard; skipped', stepFields(step));
      return { fenced: false, untilMs: Number.POSITIVE_INFINITY, why: 'no shard named' };
    }
    const fence = await this.modules.fencer.fence(state, demotes, subject.shard, subject.epoch);
    const key = waitKey(demotes, subject.shard, subject.epoch);
    if (fence.fenced) {
      this.waitsLogged.delete(key);
      this.modules.logger.info('primary fenced', { node: demotes, shard: subject.shard, epoch: subject.epoch, how: fence.how });
    } else if (!this.waitsLogged.has(key)) {
      if (this.waitsLogged.size >= MAX_WAITS_REMEMBERED) this.waitsLogged.clear();
      this.waitsLogged.add(key);
      const inMs = Number.isFinite(fence.untilMs) ? Math.max(0, Math.round(fence.untilMs - this.clock.nowMs())) : null;
      this.modules.logger.info('placement step waits for its primary to be fenced', { ...stepFields(step), why: fence.why, leaseEndsInMs: inMs });
    }
    return fence;
  }
}
