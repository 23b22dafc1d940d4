/**
 * Schemas of what a data node is answered: by the coordinator leader (lease
 * grants, in-sync changes) and by its peers (replication acks, recovery
 * pages). An answer crosses a process boundary like a request does, so the
 * node checks it before the engine acts on it: a peer or coordinator of
 * another version, or a broken one, is refused with a message naming the
 * field instead of corrupting the node's view of its shards.
 */
import { z } from 'zod';
import { idSchema, intInRange, strictObject } from '../../config/index.js';
import { addressSchema } from '../../coordinator/routing/fields.js';
import { NODE_STATUSES } from '../../coordinator/routing/types.js';
import type { LeaseGrant, NodeStatus as ContractNodeStatus, RecoveryBegin, RecoveryFinish, RecoveryPage, ReplicationAck } from '../../datanode/contract.js';
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';
import { describeIssues } from '../../common/zod-issues.js';
import { MAX_RECOVERY_PAGE_ENTRIES, MAX_SHARD_ID } from './limits.js';
import { counterSchema, dataKeySchema, recoveryIdSchema, shardIdSchema, valueB64Schema } from './inputs.js';

// The contract restates the table's statuses (datanode may not import coordinator): this fails to compile if they drift.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const statusesAgree: Same<(typeof NODE_STATUSES)[number], ContractNodeStatus> = true;
void statusesAgree;

const MAX_COPIES = 16;
const nodeIds = z.array(idSchema).max(MAX_COPIES);

const assignmentSchema = strictObject({
  id: shardIdSchema,
  epoch: counterSchema,
  primary: idSchema.nullable(),
  replicas: nodeIds,
  inSync: nodeIds,
});

export const leaseGrantSchema = strictObject({
  leaseMs: intInRange(0, 600_000),
  leader: idSchema,
  leaderAddress: addressSchema.optional(),
  term: counterSchema,
  status: z.enum(NODE_STATUSES),
  shardCount: intInRange(1, MAX_SHARD_ID + 1),
  maxValueBytes: intInRange(1, 1024 * 1024 * 1024),
  replicaAckTimeoutMs: intInRange(1, 600_000).optional(),
  configVersion: counterSchema.min(1).optional(),
  shardEpochs: z.array(counterSchema).max(MAX_SHARD_ID + 1).optional(),
  shards: z.array(assignmentSchema).max(MAX_SHARD_ID + 1),
  addresses: z.record(idSchema, addressSchema),
}).superRefine((g, ctx) => {
  if (g.shardEpochs !== undefined && g.shardEpochs.length !== g.shardCount) {
    ctx.addIssue({ code: 'custom', path: ['shardEpochs'], input: g.shardEpochs.length, message: `expected one epoch per shard (${g.shardCount})` });
  }
  g.shards.forEach((s, i) => {
    if (s.id >= g.shardCount) ctx.addIssue({ code: 'custom', path: ['shards', i, 'id'], input: s.id, message: `expected a shard below shardCount ${g.shardCount}` });
    for (const n of [s.primary, ...s.replicas]) {
      if (n !== null && !Object.hasOwn(g.addresses, n)) ctx.addIssue({ code: 'custom', path: ['shards', i], input: n, message: `names ${n}, whose address is not in addresses` });
    }
  });
});

export const inSyncAnswerSchema = strictObject({ epoch: counterSchema });
export const replicationAckSchema = strictObject({ ackedSeq: counterSchema });
export const recoveryBeginAnswerSchema = strictObject({ recoveryId: recoveryIdSchema, snapshotSeq: counterSchema, totalKeys: counterSchema, catchUp: z.boolean().optional() });
export const recoveryPageAnswerSchema = strictObject({
  entries: z.array(strictObject({ key: dataKeySchema, value: valueB64Schema })).max(MAX_RECOVERY_PAGE_ENTRIES),
  done: z.boolean(),
});
export const recoveryFinishAnswerSchema = strictObject({ epoch: counterSchema });

/**
 * `value` checked against `schema`, or UNAVAILABLE naming `from` and the
 * first offending field: the other side answered, but not in a shape this
 * node can act on, so the call failed.
 */
export function checkedAnswer<S extends z.ZodType>(schema: S, value: unknown, from: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const { message } = describeIssues(parsed.error);
  throw new ClusterError({ code: ClusterErrorCode.Unavailable, reason: 'malformed answer' }, `${from} answered in a shape this node cannot use: ${message}`);
}

// The checked answers are the contract's types (a drift fails to compile here).
const grantFits: Same<z.output<typeof leaseGrantSchema> extends LeaseGrant ? true : false, true> = true;
const acksFit: Same<
  [z.output<typeof replicationAckSchema>, z.output<typeof recoveryBeginAnswerSchema>, z.output<typeof recoveryPageAnswerSchema>, z.output<typeof recoveryFinishAnswerSchema>] extends [ReplicationAck, RecoveryBegin, RecoveryPage, RecoveryFinish] ? true : false,
  true
> = true;
void grantFits;
void acksFit;
