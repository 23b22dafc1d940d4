/**
 * The node router (under `/trpc` of the node's HTTP server): what primaries
 * call on their replicas (`replicate`), what a recovering replica calls on
 * the primary (`recovery.*`), what the coordinator leader calls for a
 * planned handover (`handoff`), and the node's own views (`info`, `health`).
 * Each procedure is a thin call of the DataNodeService.
 */
import type { ReplicationBatch } from '../../datanode/contract.js';
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';
import { decodedLength, handoffSchema, recoveryBeginSchema, recoveryFinishSchema, recoveryPageSchema, replicationBatchSchema } from './inputs.js';
import { requireCertificate } from '../http/caller-certificate.js';
import { checkRecoveryOpener, checkReplicationSender } from './peer-checks.js';
import { nodeProcedure, router } from './trpc.js';

/** A replicated value over the cluster's limit was never accepted by a primary: the batch is refused whole. */
function checkValueSizes(batch: ReplicationBatch, maxValueBytes: number): void {
  for (const op of batch.ops) {
    if (op.value === null) continue;
    const sizeBytes = decodedLength(op.value);
    if (sizeBytes > maxValueBytes) {
      throw new ClusterError(
        { code: ClusterErrorCode.PayloadTooLarge, limitBytes: maxValueBytes, sizeBytes },
        `ops: the value of seq ${op.seq} in shard ${batch.shard} is ${sizeBytes} bytes, over the limit of ${maxValueBytes}`,
      );
    }
  }
}

export const dataNodeRouter = router({
  replicate: nodeProcedure.input(replicationBatchSchema).mutation(({ ctx, input }) => {
    checkValueSizes(input, ctx.maxValueBytes());
    checkReplicationSender(ctx, input);
    return ctx.service.replicate(input);
  }),

  recovery: router({
    begin: nodeProcedure.input(recoveryBeginSchema).mutation(async ({ ctx, input }) => {
      requireCertificate(ctx.peerCertificate, { roles: ['node'], id: input.replica }, `recovery.begin for ${input.replica}`);
      const begun = await ctx.service.beginRecovery(input);
      ctx.recoveryOpeners.opened(begun.recoveryId, input.replica);
      return begun;
    }),
    page: nodeProcedure.input(recoveryPageSchema).mutation(({ ctx, input }) => {
      checkRecoveryOpener(ctx, input.recoveryId, 'recovery.page');
      return ctx.service.recoveryPage(input);
    }),
    finish: nodeProcedure.input(recoveryFinishSchema).mutation(({ ctx, input }) => {
      checkRecoveryOpener(ctx, input.recoveryId, 'recovery.finish');
      return ctx.service.finishRecovery(input);
    }),
  }),

  // A handoff fences this primary: only the coordinator leader's planned handover may ask for it.
  handoff: nodeProcedure.input(handoffSchema).mutation(({ ctx, input }) => {
    requireCertificate(ctx.peerCertificate, { roles: ['coordinator'] }, `handoff of shard ${input.shard}`);
    return ctx.service.handoff(input);
  }),

  info: nodeProcedure.query(({ ctx }) => ctx.service.info()),

  health: nodeProcedure.query(({ ctx }) => ctx.service.health()),
});

export type DataNodeRouter = typeof dataNodeRouter;
