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
  // One copy of the kept events (a full ring is 1,000 of them), not a concatenation and then a slice of it.
  const dropped = Math.max(0, ring.items.length + added.length - ring.capacity);
  const kept = dropped >= ring.items.length ? added.slice(dropped - ring.items.length) : ring.items.slice(dropped).concat(added);
  return { capacity: ring.capacity, nextSeq: ring.nextSeq + added.length, items: kept };
}

/** Events with seq > `since`, oldest first (`since` 0: all that are kept). */
export function eventsSince(ring: EventRing, since: number): RoutingEvent[] {
  return ring.items.filter((e) => e.seq > since);
}
