/** The table of a new cluster, from the cluster file. Every replica builds the same one, so they start equal. */
import { z } from 'zod';
import { clusterSettingsSchema } from '../../config/settings.js';
import { DEFAULT_EVENT_CAPACITY } from './events.js';
import { hostSchema, memberIdSchema, portSchema } from './fields.js';
import { makeShard } from './shard-state.js';
import type { MemberRecord, RoutingState } from './types.js';

export const MAX_SHARDS = 65_536;

const initialSchema = z.strictObject({
  clusterId: z.string().min(1).max(128),
  shards: z.number().int().min(1).max(MAX_SHARDS),
  /** The cluster file's settings; omitted fields take their defaults. */
  settings: clusterSettingsSchema.prefault({}),
  /** The bootstrap coordinators of the cluster file: voters from the start, so they never pass through a membership change. */
  members: z
    .array(z.strictObject({ id: memberIdSchema, host: hostSchema, apiPort: portSchema, peerPort: portSchema }))
    .superRefine((ms, ctx) => {
      ms.forEach((m, i) => {
        if (ms.findIndex((o) => o.id === m.id) !== i) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `coordinator ${m.id} is listed twice` });
      });
    })
    .default([]),
  eventCapacity: z.number().int().min(0).max(1_000_000).default(DEFAULT_EVENT_CAPACITY),
});

export type InitialStateInput = z.input<typeof initialSchema>;

/** Throws a ZodError on bad input: this runs at bootstrap from an already-validated cluster file. */
export function initialState(input: InitialStateInput): RoutingState {
  const { clusterId, shards, settings, members, eventCapacity } = initialSchema.parse(input);
  const memberTable: Record<string, MemberRecord> = {};
  for (const m of members) memberTable[m.id] = { ...m, role: 'voter' };
  return {
    clusterId,
    nodes: {},
    shards: Array.from({ length: shards }, (_, id) => makeShard(id, 0, null, [], [])),
    config: { version: 1, settings },
    members: memberTable,
    events: { capacity: eventCapacity, nextSeq: 1, items: [] },
  };
}
