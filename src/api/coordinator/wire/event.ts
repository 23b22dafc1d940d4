/** A routing-table event as `GET /events` and the `events.subscribe` stream send it. */
import type { EventKind, RoutingEvent } from '../../../coordinator/routing/index.js';

export interface EventInfo {
  /** Consecutive across the cluster's life: page with `since`, resume a stream from the last one seen. */
  readonly seq: number;
  readonly index: number;
  readonly term: number;
  /** ISO 8601, from the leader's clock when it proposed the change. */
  readonly time: string;
  readonly time_ms: number;
  readonly kind: EventKind;
  readonly node: string | null;
  readonly shard: number | null;
  readonly member: string | null;
  readonly message: string;
  readonly reason: string;
  /** Who asked: the token name (or certificate subject); null when the API runs without auth, or the cluster itself did it. */
  readonly by: string | null;
}

export function eventInfo(e: RoutingEvent): EventInfo {
  return {
    seq: e.seq,
    index: e.index,
    term: e.term,
    time: new Date(e.timeMs).toISOString(),
    time_ms: e.timeMs,
    kind: e.kind,
    node: e.node,
    shard: e.shard,
    member: e.member,
    message: e.message,
    reason: e.reason,
    by: e.by ?? null,
  };
}
