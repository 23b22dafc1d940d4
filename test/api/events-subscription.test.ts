import { createTRPCClient, httpSubscriptionLink } from '@trpc/client';
import { EventSource, type FetchLike } from 'eventsource';
import { describe, expect, it } from 'vitest';
import type { AppRouter, EventInfo } from '../../src/api/coordinator/index.js';
import { FakeCoordinatorService, registerCommand } from './fake-service.js';
import { startServer, waitFor } from './helpers.js';

/**
 * The eventsource package reconnects 3 s after a stream drops unless the
 * server sent a `retry:` field. This fetch puts `retry: 20` in front of each
 * stream, so the test waits milliseconds, not seconds; the server under test
 * is unchanged.
 */
const fastRetry: FetchLike = async (url, init) => {
  const res = await fetch(url, init);
  if (res.body === null || !(res.headers.get('content-type') ?? '').includes('text/event-stream')) return res;
  const hint = new TextEncoder().encode('retry: 20\n\n');
  const body = res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ start: (c) => c.enqueue(hint) }));
  return new Response(body, { status: res.status, headers: res.headers });
};

function subscriber(url: string) {
  const client = createTRPCClient<AppRouter>({
    links: [httpSubscriptionLink({ url: `${url}/trpc`, EventSource, eventSourceOptions: { fetch: fastRetry } })],
  });
  const received: { id: string; event: EventInfo }[] = [];
  const errors: unknown[] = [];
  return {
    received,
    errors,
    subscribe(input: { since?: number }) {
      return client.events.subscribe.subscribe(input, {
        onData: (d) => received.push({ id: d.id, event: d.data }),
        onError: (e) => errors.push(e),
      });
    },
  };
}

describe('events.subscribe over SSE', () => {
  it('delivers the backlog after `since` and then live events, in order, with the seq as event id', async () => {
    const service = new FakeCoordinatorService();
    for (const id of ['n1', 'n2']) await service.propose(registerCommand(id));
    const server = await startServer(service);
    const sub = subscriber(server.url);
    const subscription = sub.subscribe({ since: 1 });
    await waitFor('the backlog', () => sub.received.length === 1);
    for (const id of ['n3', 'n4', 'n5']) await service.propose(registerCommand(id));
    await waitFor('the live events', () => sub.received.length === 4);
    expect(sub.received.map((r) => r.id)).toEqual(['2', '3', '4', '5']);
    expect(sub.received.map((r) => r.event.node)).toEqual(['n2', 'n3', 'n4', 'n5']);
    expect(sub.received[0]?.event).toMatchObject({ seq: 2, kind: 'node-registered', index: 2, term: 1 });
    subscription.unsubscribe();
    await waitFor('the stream to detach from the service', () => service.listenerCount === 0);
    expect(sub.errors).toEqual([]);
  });

  it('without `since`, streams only what is applied from now on', async () => {
    const service = new FakeCoordinatorService();
    await service.propose(registerCommand('n1'));
    const server = await startServer(service);
    const sub = subscriber(server.url);
    const subscription = sub.subscribe({});
    await waitFor('the subscription to attach', () => service.listenerCount === 1);
    await service.propose(registerCommand('n2'));
    await waitFor('the live event', () => sub.received.length === 1);
    expect(sub.received.map((r) => r.id)).toEqual(['2']);
    subscription.unsubscribe();
  });

  it('resumes after a reconnect right after the last seq received: nothing lost, nothing repeated', async () => {
    const service = new FakeCoordinatorService();
    const first = await startServer(service);
    const sub = subscriber(first.url);
    const subscription = sub.subscribe({ since: 0 });
    await waitFor('the subscription to attach', () => service.listenerCount === 1);
    for (const id of ['n1', 'n2']) await service.propose(registerCommand(id));
    await waitFor('the first events', () => sub.received.length === 2);

    // The replica's API goes away (restart): the stream drops, and the service lets go of it.
    await first.close();
    await waitFor('the dropped stream to detach', () => service.listenerCount === 0);
    for (const id of ['n3', 'n4']) await service.propose(registerCommand(id));

    await startServer(service, { port: first.port });
    await waitFor('the events applied while disconnected', () => sub.received.length === 4);
    await service.propose(registerCommand('n5'));
    await waitFor('a live event after the reconnect', () => sub.received.length === 5);
    expect(sub.received.map((r) => r.id)).toEqual(['1', '2', '3', '4', '5']);
    expect(sub.received.map((r) => r.event.seq)).toEqual([1, 2, 3, 4, 5]);
    subscription.unsubscribe();
  });
});
