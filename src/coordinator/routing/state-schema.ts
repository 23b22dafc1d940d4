/** The zod schema of a whole routing state: what a snapshot must contain to be restored. */
import { z } from 'zod';
import { clusterSettingsSchema } from '../../config/settings.js';
import {
  addressSchema,
  capacitySchema,
  counterSchema,
  hostSchema,
  identitySchema,
  labelsSchema,
  memberIdSchema,
  nodeIdSchema,
  portSchema,
  reasonSchema,
  actorSchema,
  shardIdSchema,
  softwareVersionSchema,
  timeMsSchema,
} from './fields.js';
import { EVACUATION_STATES, EVENT_KINDS, NODE_STATUSES, SHARD_STATES, UPGRADE_STATES, type RoutingState } from './types.js';
import { restartTimeoutSchema, upgradeVersionSchema } from './upgrade-commands.js';

const maintenanceSchema = z.strictObject({ reason: reasonSchema, sinceMs: timeMsSchema, untilMs: timeMsSchema.nullable() });

const restartSchema = z.strictObject({ sinceMs: timeMsSchema, untilMs: timeMsSchema, version: upgradeVersionSchema });

const upgradeSchema = z.strictObject({
  to: upgradeVersionSchema,
  reason: reasonSchema,
  startedAtMs: timeMsSchema,
  restartTimeoutMs: restartTimeoutSchema,
  nodes: z.array(nodeIdSchema),
  coordinators: z.array(memberIdSchema),
  done: z.array(z.union([nodeIdSchema, memberIdSchema])),
  current: z.union([nodeIdSchema, memberIdSchema]).nullable(),
  failed: z.strictObject({ id: z.union([nodeIdSchema, memberIdSchema]), reason: reasonSchema }).nullable(),
  state: z.enum(UPGRADE_STATES),
  endedAtMs: timeMsSchema.nullable(),
});

const evacuationSchema = z.strictObject({
  reason: reasonSchema,
  startedAtMs: timeMsSchema,
  total: counterSchema,
  state: z.enum(EVACUATION_STATES),
  endedAtMs: timeMsSchema.nullable(),
  stalledReason: reasonSchema.nullable(),
  bytesCopied: counterSchema,
});

const nodeSchema = z.strictObject({
  id: nodeIdSchema,
  address: addressSchema,
  status: z.enum(NODE_STATUSES),
  capacity: capacitySchema,
  version: softwareVersionSchema,
  labels: labelsSchema,
  identity: identitySchema.nullable(),
  registeredAtMs: timeMsSchema,
  statusChangedAtMs: timeMsSchema,
  statusReason: reasonSchema,
  maintenance: maintenanceSchema.optional(),
  restart: restartSchema.optional(),
  evacuation: evacuationSchema.optional(),
  configVersion: counterSchema.min(1).optional(),
});

const shardSchema = z.strictObject({
  id: shardIdSchema,
  primary: nodeIdSchema.nullable(),
  replicas: z.array(nodeIdSchema),
  inSync: z.array(nodeIdSchema),
  epoch: counterSchema,
  state: z.enum(SHARD_STATES),
});

const memberSchema = z.strictObject({
  id: memberIdSchema,
  host: hostSchema,
  apiPort: portSchema,
  peerPort: portSchema,
  role: z.enum(['learner', 'voter']),
});

const eventSchema = z.strictObject({
  seq: counterSchema,
  index: counterSchema,
  term: counterSchema,
  timeMs: timeMsSchema,
  kind: z.enum(EVENT_KINDS),
  node: nodeIdSchema.nullable(),
  shard: shardIdSchema.nullable(),
  member: memberIdSchema.nullable(),
  message: z.string(),
  reason: reasonSchema,
  by: actorSchema.optional(),
});

export const routingStateSchema: z.ZodType<RoutingState> = z.strictObject({
  clusterId: z.string().min(1).max(128),
  nodes: z.record(nodeIdSchema, nodeSchema),
  shards: z.array(shardSchema).min(1),
  config: z.strictObject({ version: counterSchema.min(1), settings: clusterSettingsSchema }),
  members: z.record(memberIdSchema, memberSchema),
  events: z.strictObject({ capacity: counterSchema, nextSeq: counterSchema.min(1), items: z.array(eventSchema) }),
  restoring: z.strictObject({ snapshotIndex: counterSchema, snapshotHash: z.string().min(1).max(128), sinceMs: timeMsSchema }).optional(),
  upgrade: upgradeSchema.optional(),
});
