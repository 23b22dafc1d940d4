/**
 * The client against in-process API servers (the real HTTP server and
 * routers over a fake service): leader discovery, redirects, retries on
 * NO_LEADER, refused connections and silence, and a clear error once the
 * retries are spent. No child processes; test/integration/client.test.ts
 * does the same against real replicas.
 */
import net from 'node:net';
import type { EventInfo } from '../../src/api/coordinator/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterUnavailableError, createClusterClient, errorCodeOf, TRPCClientError } from '../../src/client/index.js';
import { FakeCoordinatorService } from '../api/fake-service.js';
import { startServer, waitFor } from '../api/helpers.js';

/** A leader whose reads never complete once `hang` is set (a stuck disk, a lost quorum not yet noticed). */
class HungReads extends FakeCoordinatorService {
  hang = false;
  override read(consistency: Parameters<FakeCoordinatorService['read']>[0]) {
    return this.hang ? new Promise<never>(() => undefined) : super.read(consistency);
  }
}

/** Counts health answers: how often the client looked for the leader. */
class CountingStatus extends FakeCoordinatorService {
  statusCalls = 0;
  override status() {
    this.statusCalls++;
    return super.status();
  }
}

const fast = { backoffMs: 5, maxBackoffMs: 20, timeoutMs: 2_000 };

/** A port nothing listens on (bound, then released). */
async function deadAddress(): Promise<string> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `127.0.0.1:${port}`;
}

/** Accepts connections and never answers: a hung (SIGSTOPped) replica. */
const silent: net.Server[] = [];
afterEach(async () => {
  await Promise.all(silent.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});
async function silentAddress(): Promise<string> {
  const sockets = new Set<net.Socket>();
  const s = net.createServer((socket) => sockets.add(socket));
  s.on('close', () => sockets.forEach((x) => x.destroy()));
  const close = s.close.bind(s);
  s.close = (cb) => {
    sockets.forEach((x) => x.destroy());
    return close(cb);
  };
  silent.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(s.address() as net.AddressInfo).port}`;
}

describe('createClusterClient', () => {
  it('finds the leader among the replicas and sends its calls there', async () => {
    const leader = new FakeCoordinatorService({ id: 'c2' });
    const a = await startServer(new FakeCoordinatorService({ id: 'c1' }).followerOf('c2'));
    const b = await startServer(leader);
    const c = await startServer(new FakeCoordinatorService({ id: 'c3' }).followerOf('c2'));
    const client = createClusterClient({ coordinators: [a.address, b.address, c.address], ...fast });
    expect((await client.cluster.health.query()).id).toBe('c2');
    const node = await client.nodes.register.mutate({ id: 'n1', address: '127.0.0.1:8081' });
    expect(node).toMatchObject({ id: 'n1', status: 'unknown', capacity: 16 });
    expect(leader.proposed.map((p) => p.type)).toEqual(['registerNode']);
    expect((await client.nodes.list.query({ consistency: 'stale' })).nodes.map((n) => n.id)).toEqual(['n1']);
  });

  it('follows NOT_LEADER to the leader it names', async () => {
    const c3 = new FakeCoordinatorService({ id: 'c3' });
    const c = await startServer(c3);
    const c2 = new FakeCoordinatorService({ id: 'c2' });
    // Forwarding off: the follower answers NOT_LEADER with the leader's address instead of forwarding.
    const b = await startServer(c2, { forwardToLeader: false });
    const client = createClusterClient({ coordinators: [b.address], ...fast });
    expect((await client.cluster.health.query()).id).toBe('c2');
    c2.followerOf('c3', c.address);
    // c3 has no member c1: its NOT_FOUND is the answer, so the call did reach it.
    const err = await client.members.remove.mutate({ id: 'c1' }).catch((e: unknown) => e);
    expect(errorCodeOf(err)).toBe('NOT_FOUND');
    // Node's fetch (undici) sends a request that got 421 once more on a fresh connection (RFC 9110 allows it): c2 may count two.
    expect(new Set(c2.membershipCalls)).toEqual(new Set(['remove c1']));
    expect(c3.membershipCalls).toEqual(['remove c1']);
  });

  it('without a leader, a write waits for one (not sent to be stuck in a follower) while reads are served', async () => {
    const service = new CountingStatus({ id: 'c1' }).leaderless();
    const a = await startServer(service);
    const client = createClusterClient({ coordinators: [a.address], backoffMs: 20, maxBackoffMs: 40, maxRetries: 50 });
    expect((await client.nodes.list.query({ consistency: 'stale' })).consistency).toBe('stale');
    const call = client.members.remove.mutate({ id: 'c9' }).catch((e: unknown) => e);
    const asked = service.statusCalls;
    await waitFor('the client to look for a leader a few times', () => service.statusCalls >= asked + 3);
    expect(service.membershipCalls).toEqual([]);
    service.role = 'leader';
    service.leader = 'c1';
    const err = await call;
    // The leader's own answer about the request is final, not retried.
    expect(errorCodeOf(err)).toBe('NOT_FOUND');
    expect(service.membershipCalls).toEqual(['remove c9']);
  });

  it('a write that never finds a leader ends with NO_LEADER and why', async () => {
    const a = await startServer(new FakeCoordinatorService({ id: 'c1' }).leaderless());
    const client = createClusterClient({ coordinators: [a.address], maxRetries: 2, backoffMs: 5 });
    const err = (await client.nodes.register.mutate({ id: 'n1', address: '127.0.0.1:8081' }).catch((e: unknown) => e)) as ClusterUnavailableError;
    expect(err).toBeInstanceOf(ClusterUnavailableError);
    expect(err.data).toMatchObject({ code: 'NO_LEADER' });
    expect(err.message).toContain('cluster: no leader (answering: c1; none knows a leader, election running?)');
  });

  it('skips replicas that refuse connections or never answer', async () => {
    const live = await startServer(new FakeCoordinatorService({ id: 'c3' }));
    const client = createClusterClient({ coordinators: [await deadAddress(), await silentAddress(), live.address], ...fast, timeoutMs: 300 });
    expect((await client.cluster.health.query()).id).toBe('c3');
  });

  it('times out an attempt to a leader that answers its health but not the call, and goes to another replica', async () => {
    const stuck = new HungReads({ id: 'c1' });
    const leader = await startServer(stuck);
    const follower = await startServer(new FakeCoordinatorService({ id: 'c2' }).followerOf('c1'));
    const client = createClusterClient({ coordinators: [leader.address, follower.address], ...fast, timeoutMs: 200 });
    expect((await client.cluster.health.query()).id).toBe('c1');
    stuck.hang = true;
    const started = performance.now();
    const answer = await client.nodes.list.query({ consistency: 'stale' });
    expect(answer.consistency).toBe('stale');
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect((await client.cluster.health.query()).id).toBe('c2');
  });

  it('does not retry an answer about the request itself', async () => {
    const service = new FakeCoordinatorService({ id: 'c1' });
    const a = await startServer(service);
    const client = createClusterClient({ coordinators: [a.address], ...fast });
    const err = await client.nodes.get.query({ id: 'n9' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCClientError);
    expect(err).not.toBeInstanceOf(ClusterUnavailableError);
    expect((err as TRPCClientError<never>).data).toMatchObject({ code: 'NOT_FOUND', httpStatus: 404 });
  });

  it('gives up after maxRetries with an error that says what each replica did', async () => {
    const addresses = [await deadAddress(), await deadAddress()];
    const client = createClusterClient({ coordinators: addresses, maxRetries: 3, backoffMs: 5, maxBackoffMs: 10 });
    const started = performance.now();
    const err = await client.nodes.list.query().catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(err).toBeInstanceOf(ClusterUnavailableError);
    expect(err).toBeInstanceOf(TRPCClientError);
    const e = err as ClusterUnavailableError;
    expect(e.attempts).toHaveLength(4);
    expect(e.data).toMatchObject({ code: 'UNAVAILABLE', httpStatus: 503, retriesExhausted: true, path: 'nodes.list' });
    expect(e.message).toMatch(/^nodes\.list: no coordinator could serve it after 4 attempts in \d+\.\d s/);
    for (const a of addresses) expect(e.message).toContain(`${a}: connection refused`);
  });

  it('keeps the last code of a replica that answered: NO_QUORUM, TIMEOUT', async () => {
    const service = new FakeCoordinatorService({ id: 'c1' });
    service.noQuorum = true;
    const a = await startServer(service);
    const client = createClusterClient({ coordinators: [a.address], maxRetries: 2, backoffMs: 1 });
    const err = (await client.nodes.list.query().catch((e: unknown) => e)) as ClusterUnavailableError;
    expect(err.data).toMatchObject({ code: 'NO_QUORUM', httpStatus: 503 });
    expect(err.message).toContain('NO_QUORUM: linearizable read: no quorum reachable');
    const timeouts = createClusterClient({ coordinators: [await silentAddress()], maxRetries: 1, timeoutMs: 100, backoffMs: 1 });
    const t = (await timeouts.nodes.list.query().catch((e: unknown) => e)) as ClusterUnavailableError;
    expect(t.data).toMatchObject({ code: 'TIMEOUT', httpStatus: 504 });
    expect(t.message).toContain('no answer within 100 ms');
  });

  it('per call: { context: { maxRetries, timeoutMs } }, and a caller abort ends it at once', async () => {
    const client = createClusterClient({ coordinators: [await deadAddress()], maxRetries: 50, backoffMs: 5 });
    const err = (await client.nodes.list.query(undefined, { context: { maxRetries: 0 } }).catch((e: unknown) => e)) as ClusterUnavailableError;
    expect(err.attempts).toHaveLength(1);
    const controller = new AbortController();
    const call = client.nodes.list.query(undefined, { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort();
    expect(await call).not.toBeInstanceOf(ClusterUnavailableError);
  });
});

describe('events.subscribe through the client', () => {
  it('streams events and, when its replica goes away, resumes from another without loss or repeat', async () => {
    // One service behind two servers: two replicas with the same applied table.
    const service = new FakeCoordinatorService({ id: 'c1' });
    const first = await startServer(service);
    const second = await startServer(service);
    const client = createClusterClient({ coordinators: [first.address, second.address], backoffMs: 10, maxBackoffMs: 20 });
    const seen: EventInfo[] = [];
    const errors: unknown[] = [];
    const sub = client.events.subscribe.subscribe({ since: 0 }, { onData: (d) => seen.push(d.data), onError: (e) => errors.push(e) });
    await waitFor('the stream to attach', () => service.listenerCount === 1);
    await client.nodes.register.mutate({ id: 'n1', address: '127.0.0.1:8081' });
    await waitFor('the first event', () => seen.length === 1);
    await first.close();
    await waitFor('the stream to attach again, to the other replica', () => service.listenerCount === 1, 10_000);
    await client.nodes.register.mutate({ id: 'n2', address: '127.0.0.1:8082' });
    await waitFor('the event after the failover', () => seen.length === 2, 10_000);
    expect(seen.map((e) => e.node)).toEqual(['n1', 'n2']);
    expect(seen.map((e) => e.seq)).toEqual([1, 2]);
    expect(errors).toEqual([]);
    sub.unsubscribe();
  });

  it('ends with a ClusterUnavailableError in onError when no replica takes the stream', async () => {
    const client = createClusterClient({ coordinators: [await deadAddress()], maxRetries: 2, backoffMs: 5 });
    const errors: unknown[] = [];
    const sub = client.events.subscribe.subscribe({}, { onData: () => undefined, onError: (e) => errors.push(e) });
    await waitFor('the error', () => errors.length === 1);
    expect(errors[0]).toBeInstanceOf(ClusterUnavailableError);
    expect((errors[0] as Error).message).toMatch(/^events\.subscribe: no coordinator could serve it after 3 attempts/);
    sub.unsubscribe();
  });
});
