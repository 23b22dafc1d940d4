/** The coordinator replica's API: the HTTP server (tRPC + REST) and the router type for typed clients. */
export { createCoordinatorApiServer, type CoordinatorApiServer, type CoordinatorApiServerOptions } from './server.js';
export { appRouter, type AppRouter } from './routers/_app.js';
export { createAppCaller, type AppCaller } from './caller.js';
export type { ApiContext, ForwardingOptions } from './context.js';
export { FORWARDED_BY_HEADER } from './context.js';
export type { ApiErrorData, ApiErrorShape } from './trpc.js';
export type { ClusterInfo } from './wire/cluster-info.js';
export type { ReplicaHealth } from './wire/health.js';
export type { MemberInfo } from './wire/member.js';
export type { EvacuationInfo, MaintenanceInfo, NodeDetail, NodeInfo, NodeShardInfo } from './wire/node.js';
export type { ShardInfo, ShardRecoveryInfo } from './wire/shard.js';
export type { EventInfo } from './wire/event.js';
export type { ConfigInfo } from './wire/config.js';
export type { ReadMeta } from './wire/read-meta.js';
export { fetchReplicaStatus, type FetchStatusOptions } from './fetch-status.js';
export { createHttpNodeLink, type HttpNodeLinkOptions } from './node-link.js';
