/** The API's types as a client sees them: the router, its inputs and outputs, and the answers' shapes. */
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '../api/coordinator/index.js';

export type {
  ApiErrorData,
  AppRouter,
  ClusterInfo,
  ConfigInfo,
  EventInfo,
  MemberInfo,
  NodeDetail,
  NodeInfo,
  NodeShardInfo,
  ReadMeta,
  ReplicaHealth,
  ShardInfo,
} from '../api/coordinator/index.js';

/** `RouterInputs['nodes']['register']`: what a procedure takes. */
export type RouterInputs = inferRouterInputs<AppRouter>;
/** `RouterOutputs['cluster']['info']`: what a procedure answers. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;
