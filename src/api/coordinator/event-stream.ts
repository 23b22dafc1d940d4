/**
 * The events of a replica as one ordered stream: those already applied
 * after `since`, then each new one as it is applied. The listener is
 * attached before the backlog is read, so nothing applied in between is
 * lost, and seqs already sent are skipped, so nothing is sent twice.
 */
import type { RoutingEvent } from '../../coordinator/routing/index.js';
import type { CoordinatorService } from '../../coordinator/service.js';
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';
import { MAX_EVENT_SUBSCRIBERS, MAX_PENDING_EVENTS } from './limits.js';

/** Resolves on the next wake-up or when `signal` aborts, whichever comes first, and leaves no listener behind. */
function nextWake(register: (wake: () => void) => void, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      signal?.removeEventListener('abort', done);
      resolve();
    };
    signal?.addEventListener('abort', done, { once: true });
    register(done);
  });
}

/** Ends when `signal` aborts (the subscriber went away), detaching from the service; OVERLOADED if the subscriber falls too far behind. */
export async function* eventStream(service: CoordinatorService, since: number, signal: AbortSignal | undefined): AsyncGenerator<RoutingEvent, void, undefined> {
  // Each stream holds a listener and up to MAX_PENDING_EVENTS events: their number is bounded too.
  const streams = openStreams.get(service) ?? 0;
  if (streams >= MAX_EVENT_SUBSCRIBERS) {
    throw new ClusterError({ code: ClusterErrorCode.Overloaded, retryAfterMs: 1_000 }, `${MAX_EVENT_SUBSCRIBERS} event streams are open on this replica; retry later or subscribe to another replica`);
  }
  openStreams.set(service, streams + 1);
  try {
    yield* streamEvents(service, since, signal);
  } finally {
    openStreams.set(service, (openStreams.get(service) ?? 1) - 1);
  }
}

/** Event streams open per replica (a WeakMap: a closed replica's count goes with it). */
const openStreams = new WeakMap<CoordinatorService, number>();

async function* streamEvents(service: CoordinatorService, since: number, signal: AbortSignal | undefined): AsyncGenerator<RoutingEvent, void, undefined> {
  const pending: RoutingEvent[] = [];
  let wake: (() => void) | undefined;
  let overflowed = false;
  const unsubscribe = service.onEvent((e) => {
    if (pending.length >= MAX_PENDING_EVENTS) overflowed = true;
    else pending.push(e);
    wake?.();
  });
  try {
    let last = since;
    for (const e of service.events(since)) {
      if (signal?.aborted) return;
      yield e;
      last = e.seq;
    }
    while (!signal?.aborted) {
      if (overflowed) {
        throw new ClusterError(
          { code: ClusterErrorCode.Overloaded },
          `more than ${MAX_PENDING_EVENTS} events waiting for this subscriber: resubscribe from the last seq received (${last})`,
        );
      }
      const e = pending.shift();
      if (e === undefined) {
        await nextWake((w) => (wake = w), signal);
        wake = undefined;
        continue;
      }
      if (e.seq <= last) continue;
      yield e;
      last = e.seq;
    }
  } finally {
    unsubscribe();
  }
}
