/**
 * `admin`: the cluster-wide settings, changed as one updateSettings command,
 * compare-and-set on their version; and rebalancing, which the leader's
 * placement driver carries out.
 */
import { z } from 'zod';
import { intInRange, strictObject } from '../../../config/index.js';
import type { RebalanceReport } from '../../../coordinator/placement-driver/index.js';
import { settingsPatchSchema } from '../../../coordinator/routing/index.js';
import { awaitConfigAcks, DEFAULT_ACK_TIMEOUT_MS, MAX_ACK_TIMEOUT_MS } from '../config-acks.js';
import { readInput, reasonInput, seqSchema } from '../inputs.js';
import { commandBase, proposeCommand } from '../propose.js';
import { adminProcedure, operatorLeaderProcedure, operatorProcedure, readerProcedure, router } from '../trpc.js';
import { configInfo } from '../wire/config.js';
import { readMeta } from '../wire/read-meta.js';
import { actorOf } from '../../auth/index.js';
import { snapshotInfo } from '../wire/snapshot.js';

const updateInput = strictObject({
  /** The version `GET /cluster/config` showed: a change made since is refused (409), never overwritten. */
  expectedVersion: seqSchema,
  /** Only the settings to change; the merged whole is validated again (cross-field rules hold). */
  settings: settingsPatchSchema,
  reason: reasonInput.optional(),
  /** Answer only once every serving node runs the new version (504 naming the others after `timeoutMs`). */
  wait: z.boolean({ error: 'expected wait: true or false' }).optional(),
  timeoutMs: intInRange(100, MAX_ACK_TIMEOUT_MS).optional(),
}).superRefine((input, ctx) => {
  if (input.timeoutMs !== undefined && input.wait !== true) ctx.addIssue({ code: 'custom', path: ['timeoutMs'], message: 'a timeout is for waiting: only with wait true' });
});

const rebalanceInput = strictObject({ reason: reasonInput.optional() }).optional();

export interface RebalanceStepInfo {
  readonly command: string;
  readonly shard: number | null;
  readonly reason: string;
}

/** What `POST /cluster/rebalance` answers: the first placement round after the request. */
export interface RebalanceInfo {
  readonly requested: true;
  /** More balance steps follow in later rounds (a new copy is filled first, then the surplus one dropped). */
  readonly in_progress: boolean;
  /** False when no round finished in time; the request stays open and the driver carries on. */
  readonly round_finished: boolean;
  /** Balance steps (rule 6) among `steps`. */
  readonly balance_steps: number;
  /** Every step the round proposed, balance or other, in order. */
  readonly steps: readonly RebalanceStepInfo[];
  /** Steps waiting for a demoted primary to be fenced (`node/shard/epoch`). */
  readonly waiting: readonly string[];
  /** Why the round ended early, if it did. */
  readonly stopped_by: string | null;
}

function rebalanceInfo(report: RebalanceReport): RebalanceInfo {
  const round = report.round;
  return {
    requested: true,
    in_progress: report.pending,
    round_finished: round !== null,
    balance_steps: round?.balanceSteps ?? 0,
    steps: (round?.proposed ?? []).map((c) => ({ command: c.type, shard: 'shardId' in c ? c.shardId : null, reason: c.reason })),
    waiting: round?.waiting ?? [],
    stopped_by: round?.stoppedBy ?? null,
  };
}

export const adminRouter = router({
  config: readerProcedure.input(readInput).query(async ({ ctx, input }) => {
    const read = await ctx.service.read(input?.consistency ?? 'linearizable');
    return { ...configInfo(read.state), ...readMeta(read) };
  }),

  /** The whole table of a linearizable read, with its index and hash (`torua snapshot save`). */
  snapshot: adminProcedure.query(async ({ ctx }) => snapshotInfo(await ctx.service.read('linearizable'), Date.now())),

  updateConfig: operatorProcedure.input(updateInput).mutation(async ({ ctx, input }) => {
    await proposeCommand(ctx, {
      type: 'updateSettings',
      ...commandBase(input.reason ?? 'settings changed through the API'),
      expectedVersion: input.expectedVersion,
      settings: input.settings,
    });
    // This replica applied the change before the proposal resolved: its table has the version (or a later one).
    const { state } = await ctx.service.read('stale');
    if (input.wait !== true) return configInfo(state);
    return configInfo(await awaitConfigAcks(ctx.service, state.config.version, input.timeoutMs ?? DEFAULT_ACK_TIMEOUT_MS));
  }),

  /**
   * Spreads the copies evenly again (DESIGN.md §5: nothing is moved back to a
   * returning node by itself). Leader only; answers once the first round
   * after the request has run, with what it planned.
   */
  rebalance: operatorLeaderProcedure.input(rebalanceInput).mutation(async ({ ctx, input }) =>
    rebalanceInfo(await ctx.nodeControl.requestRebalance(input?.reason ?? 'rebalance requested through the API', actorOf(ctx.auth))),
  ),
});
