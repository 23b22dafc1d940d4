/** `nodes`: the data nodes of the routing table; registration and labels are routing-table commands. */
import { strictObject } from '../../../config/index.js';
import { nodeById, nodeSummaries, type RoutingState } from '../../../coordinator/routing/index.js';
import {
  addressSchema as address,
  capacitySchema as capacity,
  identitySchema as identity,
  labelsSchema as labels,
  nodeIdSchema as nodeId,
  softwareVersionSchema as softwareVersion,
} from '../../../coordinator/routing/fields.js';
import { ClusterError, ClusterErrorCode } from '../../../errors/index.js';
import type { ApiContext } from '../context.js';
import { readInput, consistencySchema, reasonInput } from '../inputs.js';
import { commandBase, proposeCommand } from '../propose.js';
import { publicProcedure, router } from '../trpc.js';
import { nodeDetail, nodeInfo, type NodeDetail } from '../wire/node.js';
import { readMeta } from '../wire/read-meta.js';

/** What a node registering for the first time without saying gets; a known node keeps what it had. */
export const DEFAULT_NODE_CAPACITY = 16;

const getInput = strictObject({ id: nodeId, consistency: consistencySchema.optional() });
const registerInput = strictObject({
  id: nodeId,
  address,
  capacity: capacity.optional(),
  version: softwareVersion.optional(),
  labels: labels.optional(),
  /** The token a data node keeps in its data directory (issue 4): a second process claiming the id is refused. */
  identity: identity.optional(),
  reason: reasonInput.optional(),
});
const setLabelsInput = strictObject({ id: nodeId, labels, reason: reasonInput.optional() });

function unknownNode(id: string): ClusterError {
  return new ClusterError({ code: ClusterErrorCode.NotFound, resource: 'node', id }, `no node ${id}`);
}

function detailOf(state: RoutingState, id: string): NodeDetail {
  const summary = nodeSummaries(state).find((n) => n.id === id);
  if (summary === undefined) throw unknownNode(id);
  return nodeDetail(state, summary);
}

/** The node as the table holds it after a write, read from this replica (which applied the write before answering). */
async function nodeAfterWrite(ctx: ApiContext, id: string): Promise<NodeDetail> {
  return detailOf((await ctx.service.read('stale')).state, id);
}

export const nodesRouter = router({
  list: publicProcedure.input(readInput).query(async ({ ctx, input }) => {
    const read = await ctx.service.read(input?.consistency ?? 'linearizable');
    return { nodes: nodeSummaries(read.state).map(nodeInfo), ...readMeta(read) };
  }),

  get: publicProcedure.input(getInput).query(async ({ ctx, input }) => {
    const read = await ctx.service.read(input.consistency ?? 'linearizable');
    return { ...detailOf(read.state, input.id), ...readMeta(read) };
  }),

  /**
   * What a data node calls on start (or an operator by hand). Capacity and
   * version left out keep what a known node had (a new one gets
   * DEFAULT_NODE_CAPACITY and no version), read from this replica's table:
   * a concurrent change of them may be overwritten, which re-registration
   * means anyway.
   */
  register: publicProcedure.input(registerInput).mutation(async ({ ctx, input }) => {
    const known = nodeById((await ctx.service.read('stale')).state, input.id);
    await proposeCommand(
      ctx,
      {
        type: 'registerNode',
        ...commandBase(input.reason ?? `registered through the API`),
        nodeId: input.id,
        address: input.address,
        capacity: input.capacity ?? known?.capacity ?? DEFAULT_NODE_CAPACITY,
        version: input.version ?? known?.version ?? '',
        ...(input.labels === undefined ? {} : { labels: input.labels }),
        ...(input.identity === undefined ? {} : { identity: input.identity }),
      },
      { node: input.id },
    );
    return nodeAfterWrite(ctx, input.id);
  }),

  /** Replaces the labels as a whole. */
  setLabels: publicProcedure.input(setLabelsInput).mutation(async ({ ctx, input }) => {
    await proposeCommand(
      ctx,
      { type: 'setNodeLabels', ...commandBase(input.reason ?? 'labels set through the API'), nodeId: input.id, labels: input.labels },
      { node: input.id },
    );
    return nodeAfterWrite(ctx, input.id);
  }),
});
