/**
 * Schemas of the operator's planned operations on data nodes: maintenance
 * (many nodes, all or nothing) and evacuation, with what the leader proposes
 * to carry them on (expiry, progress, the end of an evacuation).
 */
import { z } from 'zod';
import { commandBase as base } from './command-base.js';
import { nodeIdSchema, reasonSchema, timeMsSchema } from './fields.js';

/** The most nodes one maintenance command names (a cluster of more is put in maintenance in parts). */
export const MAX_NODES_PER_COMMAND = 256;
/** The longest maintenance TTL: 30 days. */
export const MAX_MAINTENANCE_TTL_MS = 30 * 24 * 3_600_000;

export const maintenanceNodesSchema = z
  .array(nodeIdSchema)
  .min(1, { error: 'expected at least one node id' })
  .max(MAX_NODES_PER_COMMAND, { error: `expected at most ${MAX_NODES_PER_COMMAND} node ids` })
  .superRefine((ids, ctx) => {
    ids.forEach((id, i) => {
      if (ids.indexOf(id) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `${id} is listed twice` });
    });
  });

export const maintenanceTtlSchema = z.number().int().min(1).max(MAX_MAINTENANCE_TTL_MS);

/**
 * Puts every named node in maintenance (`enabled`), or makes every one an
 * ordinary member again; one command, so either all change or none. The end
 * of a TTL is `atMs + ttlMs` (the leader's clock). `onlyExpired` is how the
 * leader ends a window whose time is up: a node whose window was renewed
 * meanwhile is left as it is.
 */
export const setMaintenance = z
  .strictObject({
    type: z.literal('setMaintenance'),
    ...base,
    nodeIds: maintenanceNodesSchema,
    enabled: z.boolean(),
    ttlMs: maintenanceTtlSchema.optional(),
    onlyExpired: z.boolean().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.enabled && c.onlyExpired === true) ctx.addIssue({ code: 'custom', path: ['onlyExpired'], message: 'onlyExpired ends maintenance: only with enabled false' });
    if (!c.enabled && c.ttlMs !== undefined) ctx.addIssue({ code: 'custom', path: ['ttlMs'], message: 'a TTL is for starting maintenance: only with enabled true' });
  });

/** The node's copies move away, primaries first; when it holds none it is in maintenance. */
export const startEvacuation = z.strictObject({ type: z.literal('startEvacuation'), ...base, nodeId: nodeIdSchema });

/** Stops an evacuation: the node is an ordinary member again; what moved stays moved. */
export const cancelEvacuation = z.strictObject({ type: z.literal('cancelEvacuation'), ...base, nodeId: nodeIdSchema });

/** The leader: the evacuating node holds nothing any more, it is in maintenance. */
export const finishEvacuation = z.strictObject({ type: z.literal('finishEvacuation'), ...base, nodeId: nodeIdSchema });

/**
 * The leader: why the evacuation started at `startedAtMs` cannot go on now
 * (null: it can). Naming the start keeps a late report from landing on a
 * later evacuation of the same node.
 */
export const setEvacuationStall = z.strictObject({
  type: z.literal('setEvacuationStall'),
  ...base,
  nodeId: nodeIdSchema,
  startedAtMs: timeMsSchema,
  stalledReason: reasonSchema.nullable(),
});
