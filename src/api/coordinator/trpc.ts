/**
 * The coordinator API's tRPC root: the one place that calls initTRPC. It
 * fixes the context, the error shape and the procedure builders every
 * router uses. Each builder names the access it needs (the role, see
 * src/api/auth), so no procedure exists without one:
 *
 * - `openProcedure` (health only), `readerProcedure` (reads, events),
 *   `writerProcedure`, `operatorProcedure` (node and shard operations,
 *   rebalance, config), `adminProcedure`, and `internalProcedure` (what the
 *   cluster's own processes call: registration, leases, sync reports,
 *   failure confirmation; an admin may too) answer from this replica
 *   (reads through ReadIndex or its own table, writes through Raft, which
 *   forwards proposals itself);
 * - their `…LeaderProcedure` twins are for what only the leader can do
 *   (membership changes, leadership transfer, leases): on a follower the
 *   service throws NOT_LEADER, and the call is forwarded once to the
 *   leader's API with the caller's credentials, which the leader checks again.
 */
import { initTRPC, TRPCError, type TRPC_ERROR_CODE_KEY, type TRPC_ERROR_CODE_NUMBER } from '@trpc/server';
import { ClusterError, ClusterErrorCode, isClusterError, type PublicValue, type TrpcErrorCode } from '../../errors/index.js';
import { forwardedAuthorization, requireAccess, type Access } from '../auth/index.js';
import type { ApiContext } from './context.js';
import { apiErrorShape, domainErrorOfCall, rawInputOf } from '../http/trpc-errors.js';
import { describeError } from './errors/describe-error.js';
import { withLeaderAddress } from './errors/leader-address.js';
import { forwardToLeader } from './forward.js';
import { SSE_PING_INTERVAL_MS, SSE_RECONNECT_AFTER_INACTIVITY_MS } from './limits.js';

// src/errors restates tRPC's codes (it may not import @trpc/server); this fails to compile when they drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const trpcCodesAgree: Same<TrpcErrorCode, TRPC_ERROR_CODE_KEY> = true;
void trpcCodesAgree;

/** `data` of every tRPC error: the DESIGN.md §7 error body (`code` is ours, e.g. NOT_LEADER), plus the HTTP status. */
export interface ApiErrorData {
  readonly code: string;
  readonly message: string;
  readonly httpStatus: number;
  /** The procedure that failed, when one did. */
  readonly path?: string;
  readonly [field: string]: PublicValue | undefined;
}

export interface ApiErrorShape {
  readonly code: TRPC_ERROR_CODE_NUMBER;
  readonly message: string;
  readonly data: ApiErrorData;
}

/** What every procedure declares (through its builder): the access a caller needs. */
export interface ProcedureMeta {
  readonly access: Access;
}

const t = initTRPC.context<ApiContext>().meta<ProcedureMeta>().create({
  // The whole shape is ours: no stack trace (tRPC adds one in development) ever reaches a client.
  errorFormatter: ({ error, shape }): ApiErrorShape => apiErrorShape(error, shape.data.path),
  sse: {
    ping: { enabled: true, intervalMs: SSE_PING_INTERVAL_MS },
    client: { reconnectAfterInactivityMs: SSE_RECONNECT_AFTER_INACTIVITY_MS },
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * Turns whatever a procedure threw into a TRPCError whose code is the one
 * CLUSTER_ERROR_STATUS names and whose cause is the domain error, so that
 * `createCaller` users (the REST adapter), tRPC's HTTP status and the error
 * formatter all see the same thing. An input that fails its schema becomes
 * INVALID_INPUT with one line per problem, naming the field and what was found.
 */
const normalizeErrors = t.middleware(async ({ ctx, next, getRawInput }) => {
  const result = await next();
  if (result.ok) return result;
  const { error } = result;
  const domain = await domainErrorOfCall(error, getRawInput);
  if (domain === undefined) return result;
  const enriched = withLeaderAddress(domain, ctx.service);
  throw new TRPCError({ code: describeError(enriched).trpcCode, message: enriched.message, cause: enriched });
});

/** 401 without valid credentials, 403 for too small a role; a procedure that declares no access is refused to everyone. */
const checkAccess = t.middleware(({ ctx, meta, path, next }) => {
  if (meta?.access === undefined) {
    throw new ClusterError({ code: ClusterErrorCode.Forbidden, required: 'a declared role', role: 'any' }, `${path} declares no role, so nobody may call it`);
  }
  requireAccess(ctx.auth, meta.access, path);
  return next();
});

const procedureFor = (access: Access) => t.procedure.meta({ access }).use(normalizeErrors).use(checkAccess);

/**
 * NOT_LEADER from the service: forward the call, once, to the leader and
 * answer with the leader's answer. Not forwarded (NOT_LEADER, 421, with the
 * leader's address): a call that was already forwarded (loop prevention),
 * forwarding switched off, or a leader whose address is unknown. No leader
 * known at all: NO_LEADER (503), retry shortly.
 */
const forwardLeaderCalls = t.middleware(async ({ ctx, next, path, getRawInput }) => {
  const result = await next();
  if (result.ok) return result;
  const err = result.error.cause;
  if (!isClusterError(err, ClusterErrorCode.NotLeader)) return result;
  const leader = err.type.leader;
  if (!leader) {
    throw new ClusterError({ code: ClusterErrorCode.NoLeader, ...(err.type.term === undefined ? {} : { term: err.type.term }) }, `no leader is known for ${path}; retry shortly`);
  }
  const address = err.type.leaderAddress ?? ctx.service.apiAddressOf(leader);
  const self = ctx.service.status().id;
  const forwarding = ctx.forwarding;
  if (ctx.forwardedBy !== undefined || forwarding === undefined || !forwarding.enabled || address === undefined || leader === self) {
    if (ctx.forwardedBy !== undefined) ctx.logger.debug('not forwarding a forwarded call again', { path, forwardedBy: ctx.forwardedBy, leader });
    throw withLeaderAddress(err, ctx.service, address);
  }
  ctx.logger.debug('forwarding to the leader', { path, leader, address });
  const data = await forwardToLeader({
    leader,
    address,
    path,
    input: await rawInputOf(getRawInput),
    from: self,
    onBehalfOf: ctx.peerCertificate,
    timeoutMs: forwarding.timeoutMs,
    localAddress: forwarding.localAddress,
    ...forwardedAuthorization(ctx.auth),
  });
  // next()'s own marker: the leader's data takes the place of the result this replica could not produce.
  const forwarded: Awaited<ReturnType<typeof next>> = { marker: result.marker, ok: true, data };
  return forwarded;
});

/** Answered without credentials: this replica's own health. */
export const openProcedure = procedureFor('open');
export const readerProcedure = procedureFor('reader');
export const writerProcedure = procedureFor('writer');
export const operatorProcedure = procedureFor('operator');
export const adminProcedure = procedureFor('admin');
export const internalProcedure = procedureFor('internal');
export const operatorLeaderProcedure = operatorProcedure.use(forwardLeaderCalls);
export const adminLeaderProcedure = adminProcedure.use(forwardLeaderCalls);
export const internalLeaderProcedure = internalProcedure.use(forwardLeaderCalls);
