/**
 * Subscriptions (`events.subscribe`) over SSE, with failover. tRPC's
 * httpSubscriptionLink drives the stream and resumes it from the last event
 * id; the `eventsource` package (Node 20 has no global EventSource) makes
 * the connections, through a fetch of ours that sends each one to the
 * replica the leader tracker picks and, when it does not answer, to the
 * next, with backoff, for a bounded number of rounds. After that the fetch
 * answers 503 itself, which ends the subscription with a
 * ClusterUnavailableError in onError rather than reconnecting for ever.
 */
import { httpSubscriptionLink, TRPCClientError, type TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';
import { EventSource, type EventSourceFetchInit, type FetchLike } from 'eventsource';
import type { AppRouter } from '../api/coordinator/index.js';
import { parseAddress } from './addresses.js';
import { backoffDelayMs, sleep } from '../common/backoff.js';
import { ClusterUnavailableError, type FailedAttempt } from './errors.js';
import { describeTransportFailure, NO_ANSWER_CODE } from './failure.js';
import type { LeaderTracker } from './leader-tracker.js';
import type { ClientSettings } from './options.js';
import { streamingAgentFetch } from './node-fetch.js';
import { processTls } from '../tls/process-tls.js';
import { createClientAgent } from '../tls/web.js';

interface StreamState {
  gaveUp: ClusterUnavailableError | undefined;
}

/**
 * eventsource waits 3 s before reconnecting unless the server says
 * otherwise with a `retry:` field, and ours says nothing. Put one in front
 * of the stream, so a dropped stream (its replica died) comes back in about
 * a backoff, from another replica.
 */
function withReconnectHint(res: Response, retryMs: number): Response {
  if (res.body === null) return res;
  const hint = new TextEncoder().encode(`retry: ${Math.max(1, Math.round(retryMs))}\n\n`);
  const body = res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ start: (c) => c.enqueue(hint) }));
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

function failoverFetch(tracker: LeaderTracker, settings: ClientSettings, state: StreamState, path: string): FetchLike {
  // With TLS the stream goes through an agent that presents this process's certificate (Node's fetch cannot).
  const streamFetch = processTls() === undefined ? fetch : streamingAgentFetch(createClientAgent({ keepAlive: false, expect: ['coordinator'] }));
  return async (url: string | URL, init: EventSourceFetchInit) => {
    const started = performance.now();
    const failures: FailedAttempt[] = [];
    let lastError: unknown;
    for (let round = 0; round <= settings.maxRetries; round++) {
      if (round > 0) await sleep(backoffDelayMs(round, settings.backoffMs, settings.maxBackoffMs, settings.random), init.signal);
      for (const address of await tracker.order()) {
        const target = new URL(url);
        target.host = address;
        try {
          const headers = new Headers(init.headers);
          for (const [name, value] of Object.entries(settings.headers)) headers.set(name, value);
          const res = await streamFetch(target, { ...init, headers, signal: init.signal ?? null });
          if (res.status < 500) {
            tracker.succeeded(address);
            return withReconnectHint(res, settings.backoffMs);
          }
          await res.body?.cancel();
          failures.push({ address, code: NO_ANSWER_CODE, description: `HTTP ${res.status}` });
        } catch (err) {
          if (init.signal?.aborted) throw err;
          lastError = err;
          failures.push({ address, code: NO_ANSWER_CODE, description: describeTransportFailure(err) });
        }
        tracker.failed(address);
      }
    }
    state.gaveUp = new ClusterUnavailableError(path, failures, performance.now() - started, lastError);
    return new Response(JSON.stringify({ error: { code: 'UNAVAILABLE', message: state.gaveUp.message } }), {
      status: 503,
      headers: { 'content-type': 'application/json' },
    });
  };
}

export function failoverSubscriptionLink(tracker: LeaderTracker, settings: ClientSettings): TRPCLink<AppRouter> {
  return (runtime) =>
    ({ op, next }) =>
      observable((observer) => {
        const state: StreamState = { gaveUp: undefined };
        // A link per subscription, so that its fetch can tell this subscription why it ended.
        const link = httpSubscriptionLink<AppRouter, typeof EventSource>({
          // Only the path and query count: the fetch picks the replica.
          url: `${parseAddress(settings.coordinators[0] as string).origin}/trpc`,
          EventSource,
          eventSourceOptions: { fetch: failoverFetch(tracker, settings, state, op.path) },
        })(runtime);
        const subscription = link({ op, next }).subscribe({
          next: (value) => observer.next(value),
          error: (err) => observer.error(state.gaveUp ?? TRPCClientError.from(err)),
          complete: () => observer.complete(),
        });
        return () => subscription.unsubscribe();
      });
}
