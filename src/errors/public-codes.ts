import type { TrpcErrorCode } from './trpc-codes.js';

/**
 * The public error vocabulary of the API (DESIGN.md §7): the `code` of every
 * `{error: {code, message}}` body is one of these, whatever domain the error
 * came from. Clients branch on the code, never on the message.
 */
export enum ClusterErrorCode {
  /** The request does not match the input schema; `issues` says how, in words. */
  InvalidInput = 'INVALID_INPUT',
  /** No credentials, or credentials that name no one (an unknown or wrong token): send `Authorization: Bearer <token>`. */
  Unauthenticated = 'UNAUTHENTICATED',
  /**
   * The caller is known but may not make this call: its token's role is too
   * small (`required` names the role needed), or its certificate is another
   * member's or of a kind that may not make it (`reason`).
   */
  Forbidden = 'FORBIDDEN',
  /** No such node, shard, key, member or route. */
  NotFound = 'NOT_FOUND',
  /** The request contradicts the current state (an id claimed by another identity, a change already in progress). */
  Conflict = 'CONFLICT',
  /** The request names a shard epoch that has moved on: refresh the routing table and retry. */
  StaleEpoch = 'STALE_EPOCH',
  /** A key or value beyond the configured maximum. */
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  /** This data node is not the shard's primary at the epoch asked for; `primary` names the one it knows. */
  NotPrimary = 'NOT_PRIMARY',
  /** Only the leader can do this; `leader` names it when known, so the client can go there. */
  NotLeader = 'NOT_LEADER',
  /** No leader is known right now (an election is running): retry shortly, anywhere. */
  NoLeader = 'NO_LEADER',
  /** This replica cannot reach a majority, so it cannot commit or serve a linearizable read. */
  NoQuorum = 'NO_QUORUM',
  /** A data node without a valid lease from the current leader refuses writes (fencing). */
  NoLease = 'NO_LEASE',
  /** The shard or process cannot serve now (no primary, recovering, shutting down); `reason` says which. */
  Unavailable = 'UNAVAILABLE',
  /** Too many requests in flight (uncommitted proposals, pending reads): back off. */
  Overloaded = 'OVERLOADED',
  /** The operation did not complete in time; it may still take effect. */
  Timeout = 'TIMEOUT',
  /** A bug or an unexpected failure; details are in the server log only. */
  Internal = 'INTERNAL',
}

export interface ErrorStatus {
  readonly httpStatus: number;
  readonly trpcCode: TrpcErrorCode;
}

/**
 * HTTP status and tRPC code per public code. tRPC has no 421, so NOT_LEADER
 * becomes PRECONDITION_FAILED (the precondition "this replica leads" failed;
 * not retryable here, unlike SERVICE_UNAVAILABLE, which tRPC's SSE link
 * retries on the same server). STALE_EPOCH is a failed compare-and-set: 409.
 */
export const CLUSTER_ERROR_STATUS: Readonly<Record<ClusterErrorCode, ErrorStatus>> = {
  [ClusterErrorCode.InvalidInput]: { httpStatus: 400, trpcCode: 'BAD_REQUEST' },
  [ClusterErrorCode.Unauthenticated]: { httpStatus: 401, trpcCode: 'UNAUTHORIZED' },
  [ClusterErrorCode.Forbidden]: { httpStatus: 403, trpcCode: 'FORBIDDEN' },
  [ClusterErrorCode.NotFound]: { httpStatus: 404, trpcCode: 'NOT_FOUND' },
  [ClusterErrorCode.Conflict]: { httpStatus: 409, trpcCode: 'CONFLICT' },
  [ClusterErrorCode.StaleEpoch]: { httpStatus: 409, trpcCode: 'CONFLICT' },
  [ClusterErrorCode.PayloadTooLarge]: { httpStatus: 413, trpcCode: 'PAYLOAD_TOO_LARGE' },
  [ClusterErrorCode.NotPrimary]: { httpStatus: 421, trpcCode: 'PRECONDITION_FAILED' },
  [ClusterErrorCode.NotLeader]: { httpStatus: 421, trpcCode: 'PRECONDITION_FAILED' },
  [ClusterErrorCode.NoLeader]: { httpStatus: 503, trpcCode: 'SERVICE_UNAVAILABLE' },
  [ClusterErrorCode.NoQuorum]: { httpStatus: 503, trpcCode: 'SERVICE_UNAVAILABLE' },
  [ClusterErrorCode.NoLease]: { httpStatus: 503, trpcCode: 'SERVICE_UNAVAILABLE' },
  [ClusterErrorCode.Unavailable]: { httpStatus: 503, trpcCode: 'SERVICE_UNAVAILABLE' },
  [ClusterErrorCode.Overloaded]: { httpStatus: 429, trpcCode: 'TOO_MANY_REQUESTS' },
  [ClusterErrorCode.Timeout]: { httpStatus: 504, trpcCode: 'GATEWAY_TIMEOUT' },
  [ClusterErrorCode.Internal]: { httpStatus: 500, trpcCode: 'INTERNAL_SERVER_ERROR' },
};

const CODES = new Set<string>(Object.values(ClusterErrorCode));

export function isClusterErrorCode(code: unknown): code is ClusterErrorCode {
  return typeof code === 'string' && CODES.has(code);
}
