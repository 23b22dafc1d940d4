/**
 * `torua/client`: the typed client of the coordinator API.
 *
 * ```ts
 * import { createClusterClient } from 'torua/client';
 * const client = createClusterClient({ coordinators: ['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003'] });
 * await client.nodes.register.mutate({ id: 'n1', address: '127.0.0.1:8081' });
 * const { nodes } = await client.nodes.list.query();
 * ```
 *
 * Only types come from the server side (DESIGN.md §2): importing this
 * module loads the tRPC client, never the coordinator.
 */
export { createClusterClient, type ClusterClient } from './create-client.js';
export type { ClusterClientOptions } from './options.js';
export { DEFAULT_BACKOFF_MS, DEFAULT_LEADER_RECHECK_MS, DEFAULT_MAX_BACKOFF_MS, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS } from './options.js';
export { ClusterUnavailableError, describeClientError, errorCodeOf, reachedNoReplica, type FailedAttempt } from './errors.js';
export { createReplicaClient, type ReplicaClient } from './replica-clients.js';
export { leaderOf, probeReplicas, DEFAULT_PROBE_TIMEOUT_MS, type ReplicaProbe } from './probe.js';
export { joinAddress, parseAddress, type CoordinatorAddress } from './addresses.js';
export type { AppRouter, ClusterInfo, ConfigInfo, EventInfo, MemberInfo, NodeDetail, NodeInfo, NodeShardInfo, ReadMeta, ReplicaHealth, ShardInfo, ApiErrorData } from './types.js';
export type { RouterInputs, RouterOutputs } from './types.js';
export { TRPCClientError, isTRPCClientError } from '@trpc/client';
export { createKvClient, type KvClient, type KvClientModules } from './kv-client.js';
export { KvError, isKvError, type KvAttempt } from './kv-error.js';
export { KV_DEFAULT_BACKOFF_BASE_MS, KV_DEFAULT_BACKOFF_CAP_MS, KV_DEFAULT_DEADLINE_MS, KV_DEFAULT_MAX_ATTEMPTS, KV_DEFAULT_TIMEOUT_MS, type KvBackoff, type KvClientOptions } from './kv-options.js';
export { closeNodeClients, createNodeClient, DEFAULT_NODE_CALL_TIMEOUT_MS, type NodeClient, type NodeClientOptions } from './node-client.js';
export { toClusterError, type CallDescription } from './node-errors.js';
export type { DataNodeRouter } from '../api/datanode/index.js';
