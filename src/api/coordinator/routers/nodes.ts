/**
 * `nodes`: the data nodes of the routing table. Registration, labels and
 * drain are routing-table commands; lease renewal and removal are the
 * leader's (forwarded from followers): a lease is the leader's promise, and a
 * removal waits for the node's primaries to be fenced.
 */
import { forwardedAuthorization } from '../../auth/index.js';
import { requireCertificate } from '../../http/caller-certificate.js';
import { z } from 'zod';
import { endpointKey, intInRange, strictObject } from '../../../config/index.js';
import {
  MAX_SHARDS,
  maintenanceNodesSchema,
  maintenanceTtlSchema,
  nodeById,
  nodeSummaries,
  shardsHeldBy,
  type NodeSummary,
  type RoutingState,
} from '../../../coordinator/routing/index.js';
import {
  addressSchema as address,
  capacitySchema as capacity,
  identitySchema as identity,
  labelsSchema as labels,
  nodeIdSchema as nodeId,
  softwareVersionSchema as softwareVersion,
} from '../../../coordinator/routing/fields.js';
import { planForcedRemoval } from '../../../coordinator/placement/index.js';
import { ClusterError, ClusterErrorCode, isClusterError } from '../../../errors/index.js';
import type { ApiContext } from '../context.js';
import { readInput, consistencySchema, reasonInput, seqSchema } from '../inputs.js';
import { commandBase, proposeCommand } from '../propose.js';
import { internalLeaderProcedure, internalProcedure, operatorLeaderProcedure, operatorProcedure, readerProcedure, router } from '../trpc.js';
import { describeError } from '../errors/describe-error.js';
import { trpcErrorAnswer } from '../errors/trpc-error-answer.js';
import { MAX_RELAYED_RENEWALS } from '../renewal-relay.js';
import { leaseGrant } from '../wire/lease-grant.js';
import { nodeDetail, nodeInfo, type NodeDetail } from '../wire/node.js';
import { loadInfo } from '../wire/load.js';
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
  /** The token a data node keeps in its data directory: a second process claiming the id is refused. */
  identity: identity.optional(),
  reason: reasonInput.optional(),
});
const setLabelsInput = strictObject({ id: nodeId, labels, reason: reasonInput.optional() });
const recoveryInput = strictObject({ shard: intInRange(0, MAX_SHARDS - 1), copiedKeys: seqSchema, totalKeys: seqSchema.nullable() });
const rate = z.number({ error: 'expected a rate (a number)' }).min(0, { error: 'expected a rate of at least 0' }).max(1e12, { error: 'expected a rate of at most 1e12' });
const shardLoadInput = strictObject({ shard: intInRange(0, MAX_SHARDS - 1), readsPerS: rate, writesPerS: rate, bytesPerS: rate });
const heldCopyInput = strictObject({
  shard: intInRange(0, MAX_SHARDS - 1),
  epoch: seqSchema,
  lastSeq: seqSchema,
  primary: nodeId.nullable(),
  inSync: z.boolean({ error: 'expected inSync: true or false' }),
});
const renewLeaseInput = strictObject({
  id: nodeId,
  identity,
  /** One entry per shard the node is filling; a node holds at most one copy of each shard. */
  recoveries: z.array(recoveryInput, { error: 'expected an array of recovery progress entries' }).max(MAX_SHARDS, { error: `expected at most ${MAX_SHARDS} recoveries` }).optional(),
  /** The settings version the node runs (that of the last grant it took). */
  configVersion: seqSchema.min(1).optional(),
  /** Per-shard load over the node's window (optional: older nodes send none). */
  load: z.array(shardLoadInput, { error: 'expected an array of shard load entries' }).max(MAX_SHARDS, { error: `expected at most ${MAX_SHARDS} shard load entries` }).optional(),
  /** The copies the node holds, with their epochs (what a restored cluster takes newer placement from). */
  holdings: z.array(heldCopyInput, { error: 'expected an array of held copies' }).max(MAX_SHARDS, { error: `expected at most ${MAX_SHARDS} held copies` }).optional(),
});
const renewLeasesInput = strictObject({
  renewals: z
    .array(renewLeaseInput, { error: 'expected an array of lease renewals' })
    .min(1, { error: 'expected at least one renewal' })
    .max(MAX_RELAYED_RENEWALS, { error: `expected at most ${MAX_RELAYED_RENEWALS} renewals` }),
});
const nodeChangeInput = strictObject({ id: nodeId, reason: reasonInput.optional() });
const maintenanceInput = strictObject({
  nodes: maintenanceNodesSchema,
  enabled: z.boolean({ error: 'expected enabled: true or false' }),
  reason: reasonInput.optional(),
  /** Maintenance ends by itself this long after it is committed (the leader ends it). */
  ttlMs: maintenanceTtlSchema.optional(),
}).superRefine((input, ctx) => {
  if (!input.enabled && input.ttlMs !== undefined) ctx.addIssue({ code: 'custom', path: ['ttlMs'], message: 'a TTL is for starting maintenance: only with enabled true' });
});

/** `address` (host:port) names `host:port`, by the cluster file's rule for one listening address. */
function sameEndpoint(address: string, host: string, port: number): boolean {
  const at = address.lastIndexOf(':');
  return endpointKey(address.slice(0, at), Number(address.slice(at + 1))) === endpointKey(host, port);
}

/**
 * Where a follower relays a renewal: the leader it follows, when relaying is
 * on and the call was not itself relayed or forwarded; otherwise undefined
 * (the leader grants; elsewhere the leader-only builder forwards the call alone or
 * answers NOT_LEADER / NO_LEADER, as for any leader-only call).
 */
function relayTarget(ctx: ApiContext): { leader: string; address: string } | undefined {
  if (ctx.renewalRelay === undefined || ctx.forwardedBy !== undefined || ctx.forwarding?.enabled !== true) return undefined;
  const { role, leader } = ctx.service.status();
  if (role === 'leader' || leader === '') return undefined;
  const address = ctx.service.apiAddressOf(leader);
  return address === undefined ? undefined : { leader, address };
}

function unknownNode(id: string): ClusterError {
  return new ClusterError({ code: ClusterErrorCode.NotFound, resource: 'node', id }, `no node ${id}`);
}

/**
 * What nodeSummaries holds for one node, without summarising (and sorting)
 * every node of the table: every write answers with its node, so this runs
 * once per write.
 */
function summaryOf(state: RoutingState, id: string): NodeSummary | undefined {
  const node = nodeById(state, id);
  if (node === undefined) return undefined;
  const held = shardsHeldBy(state.shards, id).length;
  return { ...node, shardCount: held, availableCapacity: Math.max(0, node.capacity - held) };
}

function detailOf(ctx: ApiContext, state: RoutingState, id: string): NodeDetail {
  const summary = summaryOf(state, id);
  if (summary === undefined) throw unknownNode(id);
  return nodeDetail(state, summary, ctx.nodeControl.healthOf(id), Date.now());
}

/** The node as the table holds it after a write, read from this replica (which applied the write before answering). */
async function nodeAfterWrite(ctx: ApiContext, id: string): Promise<NodeDetail> {
  return detailOf(ctx, (await ctx.service.read('stale')).state, id);
}

export const nodesRouter = router({
  list: readerProcedure.input(readInput).query(async ({ ctx, input }) => {
    const read = await ctx.service.read(input?.consistency ?? 'linearizable');
    const nowMs = Date.now();
    const nodes = nodeSummaries(read.state).map((n) => ({
      ...nodeInfo(read.state, n, ctx.nodeControl.healthOf(n.id), nowMs),
      /** What it served over its window, as it reported with its last renewal (leader-local; null elsewhere). */
      load: loadInfo(ctx.nodeControl.nodeLoad(read.state, n.id)),
    }));
    return { nodes, ...readMeta(read) };
  }),

  get: readerProcedure.input(getInput).query(async ({ ctx, input }) => {
    const read = await ctx.service.read(input.consistency ?? 'linearizable');
    return { ...detailOf(ctx, read.state, input.id), ...readMeta(read) };
  }),

  /**
   * What a data node calls on start (or an operator by hand). Capacity and
   * version left out keep what a known node had (a new one gets
   * DEFAULT_NODE_CAPACITY and no version), read from this replica's table:
   * a concurrent change of them may be overwritten, which re-registration
   * means anyway.
   */
  register: internalProcedure.input(registerInput).mutation(async ({ ctx, input }) => {
    // With TLS only node X's own certificate registers X (or moves it to another address).
    requireCertificate(ctx.peerCertificate, { roles: ['node'], id: input.id }, `nodes.register of ${input.id}`);
    const { state } = await ctx.service.read('linearizable');
    // A node at a coordinator's address would have the cluster send data traffic (and handoffs) to a replica.
    const member = Object.values(state.members).find((m) => sameEndpoint(input.address, m.host, m.apiPort) || sameEndpoint(input.address, m.host, m.peerPort));
    if (member !== undefined) {
      throw new ClusterError({ code: ClusterErrorCode.Conflict, reason: 'coordinator-address' }, `address: ${input.address} is coordinator ${member.id}'s; a node needs an address of its own`);
    }
    const known = nodeById(state, input.id);
    // Whoever knows only a node's id must not move it to another address: a
    // node that registered with an identity is re-registered only with it.
    // (Checked here and not in apply, which must treat the commands already
    // in the log as it always has; apply still refuses a different identity.)
    if (known !== undefined && known.status !== 'left' && known.identity !== null && input.identity !== known.identity) {
      throw new ClusterError(
        { code: ClusterErrorCode.Conflict, reason: 'identity' },
        `node ${input.id} was registered with an identity: re-registering it needs the same identity (only the node's own process has it)`,
      );
    }
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
  setLabels: operatorProcedure.input(setLabelsInput).mutation(async ({ ctx, input }) => {
    await proposeCommand(
      ctx,
      { type: 'setNodeLabels', ...commandBase(input.reason ?? 'labels set through the API'), nodeId: input.id, labels: input.labels },
      { node: input.id },
    );
    return nodeAfterWrite(ctx, input.id);
  }),

  /**
   * A data node renews its lease (DESIGN.md §5, §6; README, "Leases"):
   * granted by the leader only (a follower relays it), after a linearizable
   * read, with the node's assignments. The lease runs from when the node sent
   * this. 503 UNAVAILABLE, reason DEMOTION_PENDING, while the leader is
   * giving one of the node's shards another primary (it handed off or its
   * lease ran out) and the step is not committed yet.
   */
  renewLease: internalLeaderProcedure.input(renewLeaseInput).mutation(async ({ ctx, input }) => {
    requireCertificate(ctx.peerCertificate, { roles: ['node'], id: input.id }, `nodes.renewLease of ${input.id}`);
    // On a follower: relayed to the leader with the other renewals of the moment (renewal-relay.ts).
    const to = relayTarget(ctx);
    if (to !== undefined) {
      try {
        return (await ctx.renewalRelay!.relay(input, to.leader, to.address, forwardedAuthorization(ctx.auth).authorization)) as ReturnType<typeof leaseGrant>;
      } catch (e) {
        // Elected while the renewal waited for the old leader (the relay refuses it then): granted here, as a direct call.
        const self = ctx.service.status();
        if (!(isClusterError(e, ClusterErrorCode.NotLeader) && e.type.leader === self.id && self.role === 'leader')) throw e;
      }
    }
    return leaseGrant(await ctx.nodeControl.renewLease(input), input);
  }),

  /**
   * Renewals a follower relays together: one leadership check for all, an
   * answer per renewal in tRPC's single-call shape (`{result: {data}}` with
   * the grant, or `{error}` as renewLease would have failed). The call as a
   * whole fails only when this replica does not lead (or cannot confirm it).
   * Only a replica relays (the follower checked each node's own certificate).
   */
  renewLeases: internalLeaderProcedure.input(renewLeasesInput).mutation(async ({ ctx, input }) => {
    requireCertificate(ctx.peerCertificate, { roles: ['coordinator'] }, 'nodes.renewLeases');
    const answers = await ctx.nodeControl.renewLeases(input.renewals);
    return {
      answers: answers.map((a, i) => (a instanceof Error ? trpcErrorAnswer(describeError(a), 'nodes.renewLease') : { result: { data: leaseGrant(a, input.renewals[i]) } })),
    };
  }),

  /** The node's copies move away (the placement driver moves them; a node left with none is set to `left`). */
  drain: operatorProcedure.input(nodeChangeInput).mutation(async ({ ctx, input }) => {
    await proposeCommand(
      ctx,
      { type: 'setNodeStatus', ...commandBase(input.reason ?? 'drained through the API'), nodeId: input.id, status: 'draining' },
      { node: input.id },
    );
    return nodeAfterWrite(ctx, input.id);
  }),

  /**
   * Puts the nodes in maintenance, or makes them ordinary members again: one
   * command, so an unknown id (404), a node in the wrong status or too few
   * nodes left to hold every shard's copies (409) changes nothing at all.
   * The placement driver moves their copies away; the leader ends a TTL.
   */
  maintenance: operatorProcedure.input(maintenanceInput).mutation(async ({ ctx, input }) => {
    // Only for the error's `id`: the table's apply decides, and its message names the node too.
    const known = (await ctx.service.read('stale')).state;
    const unknown = input.nodes.find((id) => nodeById(known, id) === undefined);
    await proposeCommand(
      ctx,
      {
      type: 'setMaintenance',
      ...commandBase(input.reason ?? (input.enabled ? 'maintenance through the API' : 'maintenance ended through the API')),
      nodeIds: input.nodes,
      enabled: input.enabled,
        ...(input.ttlMs === undefined ? {} : { ttlMs: input.ttlMs }),
      },
      unknown === undefined ? {} : { node: unknown },
    );
    const { state } = await ctx.service.read('stale');
    return { nodes: input.nodes.map((id) => detailOf(ctx, state, id)) };
  }),

  /** Evacuating at once: primaries are handed over first, then the other copies rebuilt elsewhere; it ends in maintenance. */
  evacuate: operatorProcedure.input(nodeChangeInput).mutation(async ({ ctx, input }) => {
    await proposeCommand(ctx, { type: 'startEvacuation', ...commandBase(input.reason ?? 'evacuated through the API'), nodeId: input.id }, { node: input.id });
    return nodeAfterWrite(ctx, input.id);
  }),

  /** Stops an evacuation: the node is an ordinary member again; what moved stays moved. */
  cancelEvacuation: operatorProcedure.input(nodeChangeInput).mutation(async ({ ctx, input }) => {
    await proposeCommand(ctx, { type: 'cancelEvacuation', ...commandBase(input.reason ?? 'evacuation cancelled through the API'), nodeId: input.id }, { node: input.id });
    return nodeAfterWrite(ctx, input.id);
  }),

  /**
   * Takes the node out now: marks it draining (a new leader carries on), has
   * in-sync replicas take over its primaries (each once the node is fenced),
   * drops its copies and deletes it from the table. Answers the node as it was
   * just before. CONFLICT when a shard would lose its last in-sync copy.
   */
  remove: operatorLeaderProcedure.input(nodeChangeInput).mutation(async ({ ctx, input }) => {
    ctx.nodeControl.requireLeader('node removals');
    const reason = input.reason ?? 'removed through the API';
    const { state } = await ctx.service.read('linearizable');
    const known = nodeById(state, input.id);
    if (known === undefined) throw unknownNode(input.id);
    // A removal the planner refuses now (a shard would lose its last in-sync copy) is refused before the node is touched.
    planForcedRemoval(state, input.id, Date.now());
    if (known.status !== 'draining' && known.status !== 'left') {
      await proposeCommand(ctx, { type: 'setNodeStatus', ...commandBase(reason), nodeId: input.id, status: 'draining' }, { node: input.id });
    }
    await ctx.nodeControl.takeOut(input.id);
    const removed = await nodeAfterWrite(ctx, input.id);
    await proposeCommand(ctx, { type: 'removeNode', ...commandBase(reason), nodeId: input.id }, { node: input.id });
    return removed;
  }),
});
