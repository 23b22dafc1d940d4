/** `cluster`: this replica's own health, and the cluster as a whole. */
import { dryRun } from '../../../coordinator/placement/index.js';
import type { Consistency, StateRead } from '../../../coordinator/service.js';
import { ClusterErrorCode, isClusterError } from '../../../errors/index.js';
import type { ApiContext } from '../context.js';
import { readInput } from '../inputs.js';
import { openProcedure, readerProcedure, router } from '../trpc.js';
import { clusterInfo, type ReplicaView } from '../wire/cluster-info.js';
import { replicaHealth } from '../wire/health.js';
import { checkedScenario, planInput } from './plan-input.js';

/**
 * How long a stale `info` waits to learn whether this replica still has a
 * quorum: a ReadIndex round trip on a healthy cluster is a few ms; a
 * replica cut off from the majority would wait its whole read timeout.
 */
const QUORUM_CHECK_TIMEOUT_MS = 300;

/** The errors of a linearizable read that mean "no quorum here" rather than a bug. */
const noQuorumCodes = [ClusterErrorCode.NoQuorum, ClusterErrorCode.NoLeader, ClusterErrorCode.Timeout, ClusterErrorCode.NotLeader] as const;

function noQuorumReason(e: unknown): string | undefined {
  return noQuorumCodes.some((code) => isClusterError(e, code)) ? (e as Error).message : undefined;
}

/**
 * The table, and whether this replica can serve a linearizable read. A
 * linearizable `info` fails with the read's own error (503 NO_QUORUM, as
 * every linearizable read does: DESIGN.md §7, features/coordinator-ha). A
 * stale one answers from this replica's table and asks the quorum on the
 * side, briefly, so that a replica cut off from the majority says red with
 * "no quorum" instead of the green its old table shows.
 */
async function readWithQuorum(ctx: ApiContext, consistency: Consistency): Promise<{ read: StateRead; noQuorum: string | null }> {
  if (consistency === 'linearizable') return { read: await ctx.service.read('linearizable'), noQuorum: null };
  const read = await ctx.service.read('stale');
  try {
    await ctx.service.read('linearizable', QUORUM_CHECK_TIMEOUT_MS);
    return { read, noQuorum: null };
  } catch (e) {
    const reason = noQuorumReason(e);
    if (reason === undefined) throw e;
    return { read, noQuorum: `this replica cannot serve a linearizable read (${reason}); its table is ${read.stalenessMs} ms old` };
  }
}

export const clusterRouter = router({
  /** Answered locally, without Raft: it must work when nothing else does. */
  health: openProcedure.query(({ ctx }) => replicaHealth(ctx.service.status(), Date.now())),

  info: readerProcedure.input(readInput).query(async ({ ctx, input }) => {
    const { read, noQuorum } = await readWithQuorum(ctx, input?.consistency ?? 'linearizable');
    const status = ctx.service.status();
    const leaderAddress = status.leader === '' ? undefined : ctx.service.apiAddressOf(status.leader);
    // The health monitor's reasons (a storm guard holding failure decisions back): the leader's alone, [] elsewhere.
    const view: ReplicaView = { noQuorum, leaderReasons: ctx.nodeControl.healthReasons() };
    return clusterInfo(status, read, leaderAddress, Date.now(), view);
  }),

  /**
   * The dry run: the moves the placement planner would make, in order, if the
   * nodes named failed, drained, went into maintenance or joined, planned on
   * a copy of the (linearizable) table. Changes nothing.
   */
  plan: readerProcedure.input(planInput).mutation(async ({ ctx, input }) => {
    const { state } = await ctx.service.read('linearizable');
    return dryRun(state, checkedScenario(state, input), { nowMs: Date.now() });
  }),
});
