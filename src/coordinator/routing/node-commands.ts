/** Schemas of the commands that change data-node records. */
import { z } from 'zod';
import { commandBase as base } from './command-base.js';
import { addressSchema, capacitySchema, identitySchema, labelsSchema, memberIdSchema, nodeIdSchema, softwareVersionSchema } from './fields.js';
import { NODE_STATUSES } from './types.js';

/** A data node announces itself (first start, restart, or a rejoin after it left). */
export const registerNode = z.strictObject({
  type: z.literal('registerNode'),
  ...base,
  nodeId: nodeIdSchema,
  address: addressSchema,
  capacity: capacitySchema,
  version: softwareVersionSchema,
  /** Omitted: a re-registration keeps the labels it had (set by `setNodeLabels`). */
  labels: labelsSchema.optional(),
  identity: identitySchema.optional(),
});

export const setNodeLabels = z.strictObject({
  type: z.literal('setNodeLabels'),
  ...base,
  nodeId: nodeIdSchema,
  labels: labelsSchema,
});

const statusBase = {
  type: z.literal('setNodeStatus'),
  ...base,
  nodeId: nodeIdSchema,
  /** When given, the command applies only if the node still has this status (a CAS, like epochs for shards). */
  expectedStatus: z.enum(NODE_STATUSES).optional(),
};

/**
 * A failure decision names the coordinator replicas that saw the node fail
 * and the number of voters at the time, so apply can refuse it without a
 * majority (DESIGN.md §5).
 */
const markUnhealthy = z
  .strictObject({
    ...statusBase,
    status: z.literal('unhealthy'),
    confirmedBy: z.array(memberIdSchema).min(1).max(15),
    voters: z.number().int().min(1).max(15),
  })
  .superRefine((c, ctx) => {
    c.confirmedBy.forEach((id, i) => {
      if (c.confirmedBy.indexOf(id) !== i) ctx.addIssue({ code: 'custom', path: ['confirmedBy', i], message: `${id} is listed twice` });
    });
    if (c.confirmedBy.length > c.voters) {
      ctx.addIssue({ code: 'custom', path: ['confirmedBy'], message: `${c.confirmedBy.length} confirmations but only ${c.voters} voters` });
    }
  });

const setOtherStatus = z.strictObject({
  ...statusBase,
  status: z.enum(NODE_STATUSES.filter((s): s is Exclude<typeof s, 'unhealthy'> => s !== 'unhealthy')),
});

export const setNodeStatus = z.discriminatedUnion('status', [markUnhealthy, setOtherStatus]);

/** Deletes the node from the table; refused while it holds any shard copy (move or promote them first). */
export const removeNode = z.strictObject({
  type: z.literal('removeNode'),
  ...base,
  nodeId: nodeIdSchema,
});
