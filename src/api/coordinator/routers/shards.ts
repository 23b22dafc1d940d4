/**
 * `shards`: the shard map and its changes, each a compare-and-set on the
 * shard's epoch. The leader's placement driver moves shards by itself;
 * `assign` sets a shard's copies by hand with one assignShard (a shard
 * without copies) or moveShard (one with copies) command, and `setInSync` is
 * what a primary calls when a replica caught up or fell behind.
 */
import { z } from 'zod';
import { explainShard } from '../../../coordinator/placement/index.js';
import { intInRange, strictObject } from '../../../config/index.js';
import { copiesOf, epochAfterInSyncChange, shardById, type AssignShard, type MoveShard, type RoutingState, type SetInSync, type ShardRecord } from '../../../coordinator/routing/index.js';
import { nodeIdSchema } from '../../../coordinator/routing/fields.js';
import { ClusterError, ClusterErrorCode } from '../../../errors/index.js';
import type { ApiContext } from '../context.js';
import { requireAccess } from '../../auth/index.js';
import { badRequest } from '../errors/invalid-input.js';
import { rejectionError } from '../errors/rejection.js';
import { consistencySchema, readInput, reasonInput, seqSchema } from '../inputs.js';
import { commandBase, withActor } from '../propose.js';
import { internalProcedure, operatorProcedure, readerProcedure, router } from '../trpc.js';
import { readMeta } from '../wire/read-meta.js';
import { loadInfo } from '../wire/load.js';
import { shardInfo } from '../wire/shard.js';

const assignInput = strictObject({
  id: intInRange(0, 65_535),
  /** null drops the primary without promoting anyone: the forced way out for a shard whose copies are gone. */
  primary: nodeIdSchema.nullable(),
  replicas: z.array(nodeIdSchema, { error: 'expected an array of node ids' }).max(15, { error: 'expected at most 15 replicas' }),
  /** The epoch `GET /shards` showed: a shard changed since is refused (409 STALE_EPOCH), never overwritten. */
  expectedEpoch: seqSchema,
  reason: reasonInput.optional(),
  /** An admin's override of the data-loss check: the copies holding every acknowledged write are dropped. */
  force: z.boolean({ error: 'expected force: true or false' }).optional(),
});
const setInSyncInput = strictObject({
  id: intInRange(0, 65_535),
  nodeId: nodeIdSchema,
  inSync: z.boolean({ error: 'expected true or false' }),
  /** The epoch the primary holds: refused (409 STALE_EPOCH) if the shard moved on. */
  expectedEpoch: seqSchema,
  reason: reasonInput.optional(),
  /** After a recovery: the bytes of keys and values the primary sent the copy. */
  copiedBytes: seqSchema.optional(),
  /** An admin marking a copy in sync by hand (it may lack acknowledged writes); the primary's own report needs none. */
  force: z.boolean({ error: 'expected force: true or false' }).optional(),
});
type AssignInput = z.infer<typeof assignInput>;
const explainInput = strictObject({ id: intInRange(0, 65_535), consistency: consistencySchema.optional() });

function unknownShard(state: RoutingState, id: number): ClusterError {
  return new ClusterError({ code: ClusterErrorCode.NotFound, resource: 'shard', id: String(id) }, `no shard ${id}: the cluster has shards 0..${state.shards.length - 1}`);
}

/** The shard as this replica knows it, at least as fresh as the epoch the caller saw. */
async function currentShard(ctx: ApiContext, id: number, expectedEpoch: number): Promise<ShardRecord> {
  let state = (await ctx.service.read('stale')).state;
  // Behind the caller: ask the quorum, so the choice between assign and move is made on a fresh table.
  if ((shardById(state, id)?.epoch ?? 0) < expectedEpoch) state = (await ctx.service.read('linearizable')).state;
  const shard = shardById(state, id);
  if (shard === undefined) throw unknownShard(state, id);
  return shard;
}

/**
 * The in-sync copies an assignment would drop when it keeps none of them:
 * every acknowledged write would be gone. Refused unless an admin says
 * `force: true`; the answer then names what was lost.
 */
function dataLossOf(ctx: ApiContext, shard: ShardRecord, input: AssignInput): readonly string[] {
  // A stale epoch is refused by the compare-and-set, with both epochs: that answer is the useful one.
  if (shard.epoch !== input.expectedEpoch) return [];
  const copies = input.primary === null ? input.replicas : [input.primary, ...input.replicas];
  if (shard.inSync.length === 0 || shard.inSync.some((id) => copies.includes(id))) return [];
  if (input.force !== true) {
    throw new ClusterError(
      { code: ClusterErrorCode.Conflict, reason: 'DATA_LOSS' },
      `shard ${shard.id}: the assignment keeps none of its in-sync copies (${shard.inSync.join(', ')}), so every acknowledged write would be lost; an admin may force it with force: true`,
    );
  }
  requireAccess(ctx.auth, 'admin', `forcing a data-losing assignment of shard ${shard.id}`);
  return shard.inSync;
}

function assignCommand(shard: ShardRecord, input: AssignInput): AssignShard | MoveShard {
  const base = { ...commandBase(input.reason ?? 'shard assigned through the API'), shardId: input.id, expectedEpoch: input.expectedEpoch, replicas: input.replicas };
  // The epoch compare-and-set makes the choice safe: if the shard changed since it was read, either command is refused.
  if (copiesOf(shard).length > 0) return { type: 'moveShard', ...base, primary: input.primary };
  if (input.primary === null) throw badRequest(`primary: shard ${input.id} has no copies, so it needs a primary`);
  return { type: 'assignShard', ...base, primary: input.primary };
}

/** Proposes a shard command; a refusal becomes its error (STALE_EPOCH with both epochs), else the shard as applied here. */
async function proposeShardCommand(
  ctx: ApiContext,
  command: AssignShard | MoveShard | SetInSync,
  expectedEpoch: number,
): Promise<{ shard: ShardRecord; state: RoutingState; changed: boolean }> {
  const outcome = await ctx.service.propose(withActor(ctx, command));
  const state = (await ctx.service.read('stale')).state;
  const shard = shardById(state, command.shardId);
  if (!outcome.ok) {
    const epochs = shard === undefined ? undefined : { expected: expectedEpoch, current: shard.epoch };
    throw rejectionError(outcome, { shard: command.shardId, ...(epochs === undefined ? {} : { epochs }) });
  }
  if (shard === undefined) throw unknownShard(state, command.shardId);
  return { shard, state, changed: outcome.changed };
}

export const shardsRouter = router({
  list: readerProcedure.input(readInput).query(async ({ ctx, input }) => {
    const read = await ctx.service.read(input?.consistency ?? 'linearizable');
    const loads = ctx.nodeControl.shardLoads(read.state);
    // load: summed over the copies reporting it (leader-local; null elsewhere or when nothing was served).
    const shards = read.state.shards.map((s) => ({ ...shardInfo(s, ctx.nodeControl.recoveryOf(read.state, s.id)), load: loadInfo(loads.get(s.id)) }));
    return { shards, ...readMeta(read) };
  }),

  /** Why the shard's copies are where they are, which node could take one and what holds a repair back. */
  explain: readerProcedure.input(explainInput).query(async ({ ctx, input }) => {
    const read = await ctx.service.read(input.consistency ?? 'linearizable');
    const shard = shardById(read.state, input.id);
    if (shard === undefined) throw unknownShard(read.state, input.id);
    return { ...explainShard(read.state, shard, { nowMs: Date.now(), stormGuard: ctx.nodeControl.healthReasons() }), ...readMeta(read) };
  }),

  assign: operatorProcedure.input(assignInput).mutation(async ({ ctx, input }) => {
    const current = await currentShard(ctx, input.id, input.expectedEpoch);
    const lost = dataLossOf(ctx, current, input);
    const command = assignCommand(current, input);
    const { shard, state } = await proposeShardCommand(ctx, command, input.expectedEpoch);
    const info = shardInfo(shard, ctx.nodeControl.recoveryOf(state, shard.id));
    return lost.length === 0 ? info : { ...info, lost_in_sync_copies: lost };
  }),

  /** Resolves with the shard's epoch after the change (unchanged when the node already was so). */
  setInSync: internalProcedure.input(setInSyncInput).mutation(async ({ ctx, input }) => {
    // A person (an admin token) vouching for a copy's data must say so; the primary's report (internal token) needs not.
    if (input.inSync && ctx.auth?.enforced === true && ctx.auth.principal?.internal !== true && input.force !== true) {
      throw new ClusterError(
        { code: ClusterErrorCode.Conflict, reason: 'DATA_LOSS' },
        `shard ${input.id}: only its primary marks a copy in sync, after copying the data to it; an admin may force it with force: true, and ${input.nodeId} then serves whatever it holds`,
      );
    }
    const reason = input.reason ?? `${input.nodeId} ${input.inSync ? 'caught up' : 'fell behind'} (through the API)`;
    const command: SetInSync = {
      type: 'setInSync',
      ...commandBase(reason),
      shardId: input.id,
      expectedEpoch: input.expectedEpoch,
      nodeId: input.nodeId,
      inSync: input.inSync,
      ...(input.copiedBytes === undefined ? {} : { copiedBytes: input.copiedBytes }),
    };
    const { changed } = await proposeShardCommand(ctx, command, input.expectedEpoch);
    return { epoch: epochAfterInSyncChange(command, changed) };
  }),
});
