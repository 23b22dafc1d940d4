/**
 * Schemas of the commands that change a shard. Each carries `expectedEpoch`:
 * a plan made on an older table (a deposed leader's, a retried request) is
 * refused instead of applied twice or out of order.
 */
import { z } from 'zod';
import { commandBase as base } from './command-base.js';
import { counterSchema, nodeIdSchema, shardIdSchema } from './fields.js';

function distinctCopies(primary: string | null, replicas: readonly string[], ctx: z.RefinementCtx): void {
  replicas.forEach((id, i) => {
    if (id === primary) ctx.addIssue({ code: 'custom', path: ['replicas', i], message: `${id} is already the primary: one copy per node` });
    else if (replicas.indexOf(id) !== i) ctx.addIssue({ code: 'custom', path: ['replicas', i], message: `${id} is listed twice: one copy per node` });
  });
}

const shardBase = { ...base, shardId: shardIdSchema, expectedEpoch: counterSchema };

/** Places a shard that has no copies at all; every copy starts in sync (there is nothing to copy yet). */
export const assignShard = z
  .strictObject({
    type: z.literal('assignShard'),
    ...shardBase,
    primary: nodeIdSchema,
    replicas: z.array(nodeIdSchema).max(15),
  })
  .superRefine((c, ctx) => distinctCopies(c.primary, c.replicas, ctx));

/**
 * Changes the copies of a shard that has some. Copies it keeps stay in sync
 * or not as they were; new ones start out of sync (recovering). The primary,
 * if any, must be an in-sync copy; an old primary kept as a replica leaves the
 * in-sync set (it may hold writes nobody acknowledged). `primary: null` drops
 * the primary without promoting anyone: the forced way out for a shard whose
 * only copies are gone.
 */
export const moveShard = z
  .strictObject({
    type: z.literal('moveShard'),
    ...shardBase,
    primary: nodeIdSchema.nullable(),
    replicas: z.array(nodeIdSchema).max(15),
  })
  .superRefine((c, ctx) => distinctCopies(c.primary, c.replicas, ctx));

/** A recovered replica joins the in-sync set, or a lagging one is taken out before the primary acks without it. */
export const setInSync = z.strictObject({
  type: z.literal('setInSync'),
  ...shardBase,
  nodeId: nodeIdSchema,
  inSync: z.boolean(),
  /** What the primary sent to fill the copy (keys and values), when it joins after a recovery: an evacuation's progress counts it. */
  copiedBytes: counterSchema.optional(),
});

/**
 * The shard's epoch once an accepted setInSync committed: every change bumps
 * it by one and the compare-and-set held, so the new epoch is exact whatever
 * applied since. What a primary acts on: it acknowledges writes without a
 * removed copy only after this answer, so the answer must follow the commit.
 */
export function epochAfterInSyncChange(command: { readonly expectedEpoch: number }, changed: boolean): number {
  return command.expectedEpoch + (changed ? 1 : 0);
}

/**
 * An in-sync replica becomes primary; the old primary stays as a replica, out
 * of sync (it may hold unacknowledged writes) — unless `keepInSync`: a
 * planned handoff, where the old primary stopped serving before this commits
 * and said every write it stored reached every in-sync replica, so it holds
 * nothing the new primary lacks and needs no copy.
 */
export const promotePrimary = z.strictObject({
  type: z.literal('promotePrimary'),
  ...shardBase,
  nodeId: nodeIdSchema,
  keepInSync: z.boolean().optional(),
});
