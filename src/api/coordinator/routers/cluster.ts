/** `cluster`: this replica's own health, and the cluster as a whole. */
import { readInput } from '../inputs.js';
import { publicProcedure, router } from '../trpc.js';
import { clusterInfo } from '../wire/cluster-info.js';
import { replicaHealth } from '../wire/health.js';

export const clusterRouter = router({
  /** Answered locally, without Raft: it must work when nothing else does. */
  health: publicProcedure.query(({ ctx }) => replicaHealth(ctx.service.status(), Date.now())),

  info: publicProcedure.input(readInput).query(async ({ ctx, input }) => {
    const read = await ctx.service.read(input?.consistency ?? 'linearizable');
    const status = ctx.service.status();
    const leaderAddress = status.leader === '' ? undefined : ctx.service.apiAddressOf(status.leader);
    return clusterInfo(status, read, leaderAddress, Date.now());
  }),
});
