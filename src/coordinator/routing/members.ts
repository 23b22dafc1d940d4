/**
 * Coordinator membership metadata: which replica listens where.
 *
 * The Raft core decides membership; its conf-change entries carry a
 * `context` string that the coordinator fills with `encodeMemberContext`
 * (the member's addresses, and the leader's clock since apply reads none).
 * When such an entry is applied, the replica calls `applyMemberChange` so
 * every replica's table knows the addresses of every member — what
 * `GET /cluster/members` and the client's leader discovery need.
 */
import { z } from 'zod';
import { sameValue } from './canonical-json.js';
import { appendEvents, type EventDraft } from './events.js';
import { actorSchema, hostSchema, memberIdSchema, portSchema, reasonSchema, timeMsSchema } from './fields.js';
import { memberById } from './lookup.js';
import { reject } from './outcome.js';
import type { ApplyMeta, ApplyOutput, MemberRecord, RoutingState } from './types.js';
import { describeIssues } from '../../common/zod-issues.js';

const contextSchema = z
  .strictObject({
    atMs: timeMsSchema,
    reason: reasonSchema.optional(),
    host: hostSchema.optional(),
    apiPort: portSchema.optional(),
    peerPort: portSchema.optional(),
    /** Who asked, when the API checked credentials; left out otherwise, so such entries read the same on every version. */
    by: actorSchema.optional(),
  })
  .refine((c) => [c.host, c.apiPort, c.peerPort].every((v) => v === undefined) || [c.host, c.apiPort, c.peerPort].every((v) => v !== undefined), {
    message: 'host, apiPort and peerPort go together',
    path: ['host'],
  });

export type MemberContext = z.infer<typeof contextSchema>;

const changeSchema = z.strictObject({
  type: z.enum(['addLearner', 'promote', 'remove']),
  node: memberIdSchema,
  context: z.string().max(2_048).optional(),
});

/** The same shape as the Raft core's `ConfChange`, restated so this folder needs nothing from src/raft. */
export interface MemberChange {
  readonly type: 'addLearner' | 'promote' | 'remove';
  readonly node: string;
  readonly context?: string;
}

export function encodeMemberContext(context: MemberContext): string {
  return JSON.stringify(contextSchema.parse(context));
}

function parseContext(text: string | undefined): { ok: true; context: MemberContext | undefined } | { ok: false; field: string; message: string } {
  if (text === undefined || text === '') return { ok: true, context: undefined };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, field: 'context', message: 'context is not JSON' };
  }
  const parsed = contextSchema.safeParse(raw);
  return parsed.success ? { ok: true, context: parsed.data } : { ok: false, ...describeIssues(parsed.error, ['context']) };
}

/**
 * Records a committed membership change. A change the Raft core has already
 * made cannot be refused here; a rejection only means the metadata could not
 * be recorded (a missing or malformed context), and the state is unchanged.
 */
export function applyMemberChange(state: RoutingState, change: MemberChange, meta: ApplyMeta): ApplyOutput {
  const shape = changeSchema.safeParse(change);
  if (!shape.success) {
    const { field, message } = describeIssues(shape.error);
    return { state, result: reject('INVALID_MEMBER', `invalid membership change: ${message}`, field) };
  }
  const { type, node: id } = shape.data;
  const ctx = parseContext(shape.data.context);
  if (!ctx.ok) return { state, result: reject('INVALID_MEMBER', `membership change of ${id}: ${ctx.message}`, ctx.field) };
  const context = ctx.context;
  const old = memberById(state, id);
  const unchanged = (): ApplyOutput => ({ state, result: { ok: true, changed: false, subject: 'member', memberId: id, member: old ?? null } });

  let member: MemberRecord | null;
  let draft: EventDraft;
  if (type === 'remove') {
    if (old === undefined) return unchanged();
    member = null;
    draft = { kind: 'member-removed', member: id, message: `coordinator ${id} (${old.host}) removed` };
  } else {
    const role = type === 'addLearner' ? 'learner' : 'voter';
    const addresses =
      context?.host !== undefined && context.apiPort !== undefined && context.peerPort !== undefined
        ? { host: context.host, apiPort: context.apiPort, peerPort: context.peerPort }
        : old;
    if (addresses === undefined) {
      return { state, result: reject('UNKNOWN_MEMBER', `${type} of ${id}: its addresses are neither in the context nor known`, 'context') };
    }
    member = { id, host: addresses.host, apiPort: addresses.apiPort, peerPort: addresses.peerPort, role };
    if (old !== undefined && sameValue(old, member)) return unchanged();
    const where = `${member.host} api ${member.apiPort} peer ${member.peerPort}`;
    draft =
      type === 'addLearner'
        ? { kind: 'member-added', member: id, message: `coordinator ${id} (${where}) added as a learner` }
        : { kind: 'member-promoted', member: id, message: `coordinator ${id} (${where}) promoted to voter` };
  }

  let members: Record<string, MemberRecord>;
  if (member === null) {
    const { [id]: _removed, ...rest } = state.members;
    members = rest;
  } else {
    members = { ...state.members, [id]: member };
  }
  // Entries without a stamped time get the latest known time, so events stay in time order.
  const timeMs = context?.atMs ?? state.events.items.at(-1)?.timeMs ?? 0;
  const events = appendEvents(state.events, [draft], meta, timeMs, context?.reason ?? `membership change: ${type}`, context?.by);
  return { state: { ...state, members, events }, result: { ok: true, changed: true, subject: 'member', memberId: id, member } };
}
