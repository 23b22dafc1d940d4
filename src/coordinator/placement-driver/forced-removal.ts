/**
 * Taking a node out of every shard now (`nodes.remove`), on the leader:
 * promote an in-sync replica of each shard it is primary of, then drop its
 * copies, with the same fencing rule as the placement driver. The planner's
 * `planForcedRemoval` says what to do; a step refused because the shard
 * moved on (the driver works on the same node) is planned again.
 */
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';
import type { Logger } from '../../observability/index.js';
import { planForcedRemoval, type PlannedStep } from '../placement/index.js';
import type { RoutingState } from '../routing/index.js';
import type { CoordinatorService } from '../service.js';
import type { Fencing } from './fencing.js';
import { shardOf, stepFields } from './step-subject.js';
import { realTimers, sleepOn, systemClock, type Clock, type Timers } from '../../common/clock.js';

export type RemovalPlanFunction = (state: RoutingState, nodeId: string, nowMs: number) => PlannedStep[];

export interface ForcedRemovalOptions {
  /** Rounds of planning at most (default 16): each shard needs two steps at most, a refusal one more round. */
  readonly maxRounds?: number;
  /** A demoted primary is waited for at most its lease plus this (default 1000). */
  readonly fenceMarginMs?: number;
  /** How often a waiting step checks again (default 50). */
  readonly pollMs?: number;
}

export interface ForcedRemovalModules {
  readonly service: CoordinatorService;
  readonly fencer: Fencing;
  readonly logger: Logger;
  readonly planRemoval?: RemovalPlanFunction;
  readonly clock?: Clock;
  readonly timers?: Timers;
}

const DEFAULT_MAX_ROUNDS = 16;
const DEFAULT_FENCE_MARGIN_MS = 1_000;
const DEFAULT_POLL_MS = 50;

export class ForcedRemoval {
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly planRemoval: RemovalPlanFunction;

  constructor(
    private readonly opts: ForcedRemovalOptions,
    private readonly modules: ForcedRemovalModules,
  ) {
    this.clock = modules.clock ?? systemClock;
    this.timers = modules.timers ?? realTimers;
    this.planRemoval = modules.planRemoval ?? planForcedRemoval;
  }

  /**
   * Resolves once `nodeId` holds no copy in this replica's table. Throws what
   * the planner throws (CONFLICT when a shard would lose its last in-sync
   * copy), TIMEOUT when a demoted primary is not fenced within its lease and
   * the margin, CONFLICT when the shards keep moving for maxRounds rounds.
   */
  async takeOut(nodeId: string): Promise<void> {
    const maxRounds = this.opts.maxRounds ?? DEFAULT_MAX_ROUNDS;
    let lastRefusal = '';
    for (let round = 0; round < maxRounds; round++) {
      const { state } = await this.modules.service.read('stale');
      const steps = this.planRemoval(state, nodeId, this.clock.nowMs());
      if (steps.length === 0) return;
      for (const step of steps) {
        if (step.demotes !== null) await this.waitFenced(state, step, step.demotes);
        const outcome = await this.modules.service.propose(step.command);
        if (!outcome.ok) {
          const subject = step.demotes === null ? undefined : shardOf(step.command);
          if (subject !== undefined) this.modules.fencer.release(step.demotes!, subject.shard, subject.epoch);
          lastRefusal = `${step.command.type} refused: ${outcome.message}`;
          this.modules.logger.info('forced removal step refused; planning again', { ...stepFields(step), code: outcome.code, refusal: outcome.message });
          break;
        }
        this.modules.logger.info('forced removal step', { ...stepFields(step), node: nodeId });
      }
    }
    throw new ClusterError(
      { code: ClusterErrorCode.Conflict, reason: 'SHARDS_KEEP_MOVING' },
      `could not take ${nodeId} out of its shards in ${maxRounds} rounds (the shards kept changing); last: ${lastRefusal}`,
    );
  }

  private async waitFenced(state: RoutingState, step: PlannedStep, demotes: string): Promise<void> {
    const subject = shardOf(step.command);
    if (subject === undefined) throw new ClusterError({ code: ClusterErrorCode.Internal }, `forced removal step ${step.command.type} demotes ${demotes} without naming a shard`);
    const leaseMs = state.config.settings.health.leaseMs;
    const deadline = this.clock.nowMs() + leaseMs + (this.opts.fenceMarginMs ?? DEFAULT_FENCE_MARGIN_MS);
    let logged = false;
    for (;;) {
      const fence = await this.modules.fencer.fence(state, demotes, subject.shard, subject.epoch);
      if (fence.fenced) {
        this.modules.logger.info('primary fenced', { node: demotes, shard: subject.shard, epoch: subject.epoch, how: fence.how });
        return;
      }
      const now = this.clock.nowMs();
      if (now >= deadline || fence.untilMs > deadline) {
        throw new ClusterError(
          { code: ClusterErrorCode.Timeout, operation: `fencing ${demotes} for shard ${subject.shard}`, timeoutMs: leaseMs + (this.opts.fenceMarginMs ?? DEFAULT_FENCE_MARGIN_MS) },
          `${demotes} could not be fenced for shard ${subject.shard} in time: ${fence.why}`,
        );
      }
      if (!logged) this.modules.logger.info('forced removal waits for the primary to be fenced', { ...stepFields(step), why: fence.why });
      logged = true;
      await sleepOn(this.timers, Math.max(1, Math.min(this.opts.pollMs ?? DEFAULT_POLL_MS, fence.untilMs - now)));
    }
  }
}
