/**
 * tRPC v11's error code keys (`TRPC_ERROR_CODE_KEY` of @trpc/server 11,
 * `unstable-core-do-not-import/rpc/codes.ts`). Written out here because the
 * errors layer must not depend on the server package; the API layer checks
 * that the two stay equal (api/coordinator/trpc.ts, `trpcCodesAgree`).
 */
export const TRPC_ERROR_CODES = [
  'PARSE_ERROR',
  'BAD_REQUEST',
  'INTERNAL_SERVER_ERROR',
  'NOT_IMPLEMENTED',
  'BAD_GATEWAY',
  'SERVICE_UNAVAILABLE',
  'GATEWAY_TIMEOUT',
  'UNAUTHORIZED',
  'PAYMENT_REQUIRED',
  'FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_SUPPORTED',
  'TIMEOUT',
  'CONFLICT',
  'PRECONDITION_FAILED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNPROCESSABLE_CONTENT',
  'PRECONDITION_REQUIRED',
  'TOO_MANY_REQUESTS',
  'CLIENT_CLOSED_REQUEST',
] as const;

export type TrpcErrorCode = (typeof TRPC_ERROR_CODES)[number];
