/** The bounded event ring: every committed state change, newest last, for `GET /events` and the event stream. */
import type { ApplyMeta, EventKind, EventRing, MemberId, NodeId, RoutingEvent } from './types.js';

export const DEFAULT_EVENT_CAPACITY = 1_000;

/** An event as a handler describes it; the ring adds seq, index, term and time. */
export interface EventDraft {
  readonly kind: EventKind;
  readonly node?: NodeId;
  readonly shard?: number;
  readonly member?: MemberId;
  readonly message: string;
}

/** A new ring with the drafts appended and the oldest events dropped beyond capacity. */
export function appendEvents(ring: EventRing, drafts: readonly EventDraft[], meta: ApplyMeta, timeMs: number, reason: string, by?: string): EventRing {
  if (drafts.length === 0) return ring;
  const added: RoutingEvent[] = drafts.map((d, i) => ({
    seq: ring.nextSeq + i,
    index: meta.index,
    term: meta.term,
    timeMs,
    kind: d.kind,
    node: d.node ?? null,
    shard: d.shard ?? null,
    member: d.member ?? null,
    message: d.message,
    reason,
    ...(by === undefined ? {} : { by }),
  }));
  const items = [...ring.items, ...added];
  return { capacity: ring.capacity, nextSeq: ring.nextSeq + added.length, items: items.length > ring.capacity ? items.slice(items.length - ring.capacity) : items };
}

/** Events with seq > `since`, oldest first (`since` 0: all that are kept). */
export function eventsSince(ring: EventRing, since: number): RoutingEvent[] {
  return ring.items.filter((e) => e.seq > since);
}
