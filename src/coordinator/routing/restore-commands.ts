/**
 * The end of a restore's recovering window. A table restored from a snapshot
 * may be older than what the data nodes hold: a shard moved after the
 * snapshot lives on other nodes, at a higher epoch. The leader collects what
 * the nodes report holding and commits, in one command, the shard records it
 * takes from them (each at an epoch above every one reported, so every holder
 * takes it) together with the end of the window.
 */
import { z } from 'zod';
import { commandBase as base } from './command-base.js';
import { counterSchema, nodeIdSchema, shardIdSchema } from './fields.js';
import { nodeById, shardById } from './lookup.js';
import { reject, type Outcome } from './outcome.js';
import { copiesOf, makeShard } from './shard-state.js';
import type { RoutingState, ShardRecord } from './types.js';
import type { EventDraft } from './events.js';

const adoptedShard = z
  .strictObject({
    shardId: shardIdSchema,
    /** The table's epoch the adoption was planned on. */
    expectedEpoch: counterSchema,
    epoch: counterSchema,
    primary: nodeIdSchema.nullable(),
    replicas: z.array(nodeIdSchema).max(15),
    inSync: z.array(nodeIdSchema).max(16),
  })
  .superRefine((s, ctx) => {
    const copies = s.primary === null ? s.replicas : [s.primary, ...s.replicas];
    if (new Set(copies).size !== copies.length) ctx.addIssue({ code: 'custom', path: ['replicas'], message: 'one copy per node' });
    s.inSync.forEach((id, i) => {
      if (!copies.includes(id)) ctx.addIssue({ code: 'custom', path: ['inSync', i], message: `${id} holds no copy` });
    });
    if (s.primary !== null && !s.inSync.includes(s.primary)) ctx.addIssue({ code: 'custom', path: ['primary'], message: 'the primary must be in sync' });
    if (s.epoch <= s.expectedEpoch) ctx.addIssue({ code: 'custom', path: ['epoch'], message: 'an adopted record must be newer than the table' });
  });

export type AdoptedShard = z.infer<typeof adoptedShard>;

export const finishRestore = z.strictObject({
  type: z.literal('finishRestore'),
  ...base,
  /** The window it ends (`restoring.snapshotHash`): a plan made for another restore is refused. */
  snapshotHash: z.string().min(1).max(128),
  shards: z.array(adoptedShard).max(65_536),
});

export type FinishRestore = z.infer<typeof finishRestore>;

export function applyFinishRestore(state: RoutingState, c: FinishRestore): Outcome {
  const window = state.restoring;
  if (window === undefined) return reject('WRONG_STATUS', 'the cluster is not recovering from a restore');
  if (window.snapshotHash !== c.snapshotHash) {
    return reject('STALE_VERSION', `the cluster recovers from snapshot ${window.snapshotHash}, the command is for ${c.snapshotHash}`, 'snapshotHash');
  }
  const shards = state.shards.slice();
  const events: EventDraft[] = [];
  const seen = new Set<number>();
  for (const [i, a] of c.shards.entries()) {
    const shard = shardById(state, a.shardId);
    if (shard === undefined) return reject('UNKNOWN_SHARD', `no shard ${a.shardId}`, `shards.${i}.shardId`);
    if (seen.has(a.shardId)) return reject('INVALID_COMMAND', `shard ${a.shardId} is adopted twice`, `shards.${i}.shardId`);
    seen.add(a.shardId);
    if (shard.epoch !== a.expectedEpoch) {
      return reject('STALE_EPOCH', `shard ${a.shardId} is at epoch ${shard.epoch}, the command expected ${a.expectedEpoch}`, `shards.${i}.expectedEpoch`);
    }
    const copies = a.primary === null ? a.replicas : [a.primary, ...a.replicas];
    const unknown = copies.find((id) => nodeById(state, id) === undefined);
    if (unknown !== undefined) return reject('UNKNOWN_NODE', `no node ${unknown}`, `shards.${i}`);
    const next = makeShard(shard.id, a.epoch, a.primary, a.replicas, a.inSync);
    shards[shard.id] = next;
    events.push({ kind: 'shard-moved', shard: shard.id, message: `shard ${shard.id} epoch ${shard.epoch} → ${next.epoch}: taken from the nodes (${describe(shard)} → ${describe(next)})` });
  }
  const { restoring: _ended, ...rest } = state;
  const adopted = c.shards.length;
  events.unshift({ kind: 'cluster-restored', message: `restore from snapshot ${window.snapshotHash} (index ${window.snapshotIndex}) finished: ${adopted} shard${adopted === 1 ? '' : 's'} taken from the nodes` });
  const next: RoutingState = { ...rest, shards };
  return { ok: true, state: next, result: { ok: true, changed: true, subject: 'config', config: next.config }, events };
}

function describe(s: ShardRecord): string {
  return `primary ${s.primary ?? '-'}, copies [${copiesOf(s).join(',')}], in sync [${s.inSync.join(',')}]`;
}
