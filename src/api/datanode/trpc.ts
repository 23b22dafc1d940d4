/**
 * The data node API's tRPC root: the one place here that calls initTRPC.
 * Same error shape as the coordinator API (src/api/coordinator/trpc.ts), so
 * a caller reads `data.code` and the payload of every ClusterError the
 * engine throws (STALE_EPOCH with currentEpoch, CONFLICT reason RESYNC …)
 * whichever API it talks to.
 */
import { initTRPC, TRPCError } from '@trpc/server';
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';
import { describeError, isDomainError } from '../coordinator/errors/describe-error.js';
import type { ApiErrorShape } from '../coordinator/trpc.js';
import { apiErrorShape, domainErrorOfCall } from '../http/trpc-errors.js';
import type { NodeApiContext } from './context.js';

/**
 * tRPC's own PAYLOAD_TOO_LARGE names no limit, and the coordinator's mapping
 * of it names the coordinator's: this one names the node's /trpc limit.
 */
function withBodyLimit(error: TRPCError, ctx: NodeApiContext | undefined): TRPCError {
  if (error.code !== 'PAYLOAD_TOO_LARGE' || isDomainError(error.cause) || ctx === undefined) return error;
  const limitBytes = ctx.maxTrpcBodyBytes;
  const cause = new ClusterError({ code: ClusterErrorCode.PayloadTooLarge, limitBytes }, `request body over the limit of ${limitBytes} bytes`);
  return new TRPCError({ code: 'PAYLOAD_TOO_LARGE', message: cause.message, cause });
}

const t = initTRPC.context<NodeApiContext>().create({
  errorFormatter: ({ error, shape, ctx }): ApiErrorShape => apiErrorShape(withBodyLimit(error, ctx), shape.data.path),
});

export const router = t.router;

/**
 * Whatever a procedure threw becomes a TRPCError with the tRPC code of
 * CLUSTER_ERROR_STATUS and the domain error as its cause (the HTTP status
 * follows the code); a schema failure becomes INVALID_INPUT naming the field.
 */
const normalizeErrors = t.middleware(async ({ ctx, next, getRawInput }) => {
  const result = await next();
  if (result.ok) return result;
  const domain = await domainErrorOfCall(withBodyLimit(result.error, ctx), getRawInput);
  if (domain === undefined) return result;
  throw new TRPCError({ code: describeError(domain).trpcCode, message: domain.message, cause: domain });
});

export const nodeProcedure = t.procedure.use(normalizeErrors);
