import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import type { AppRouter } from '../../src/api/coordinator/index.js';
import { FakeCoordinatorService } from './fake-service.js';
import { startServer } from './helpers.js';

async function get(url: string) {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as any };
}

describe('tRPC over HTTP', () => {
  it('a typed client calls queries and mutations (batched)', async () => {
    const server = await startServer(new FakeCoordinatorService());
    const client = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${server.url}/trpc` })] });
    const [node, health] = await Promise.all([client.nodes.register.mutate({ id: 'n1', address: '127.0.0.1:8081' }), client.cluster.health.query()]);
    expect(node).toMatchObject({ id: 'n1', status: 'unknown' });
    expect(health).toMatchObject({ id: 'c1', role: 'leader' });
    expect((await client.nodes.list.query({ consistency: 'stale' })).nodes.map((n) => n.id)).toEqual(['n1']);
  });

  it('errors carry the DESIGN.md §7 code and message in data, with the status of CLUSTER_ERROR_STATUS and no stack', async () => {
    const service = new FakeCoordinatorService().followerOf('c2', '127.0.0.12:7002');
    const server = await startServer(service, { forwardToLeader: false });
    const missing = await get(`${server.url}/trpc/nodes.get?input=${encodeURIComponent(JSON.stringify({ id: 'n9' }))}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.data).toEqual({ code: 'NOT_FOUND', resource: 'node', id: 'n9', message: 'no node n9', httpStatus: 404, path: 'nodes.get' });

    const bad = await get(`${server.url}/trpc/nodes.get?input=${encodeURIComponent(JSON.stringify({ id: 'n1', extra: 1 }))}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.data).toMatchObject({ code: 'INVALID_INPUT', issues: [expect.stringMatching(/^extra: unknown key/)] });

    const client = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${server.url}/trpc` })] });
    const notLeader = await client.members.remove.mutate({ id: 'c3' }).catch((e: unknown) => e);
    expect(notLeader).toBeInstanceOf(TRPCClientError);
    expect((notLeader as TRPCClientError<AppRouter>).data).toMatchObject({ code: 'NOT_LEADER', leader: 'c2', leaderAddress: '127.0.0.12:7002', httpStatus: 421 });
    expect(JSON.stringify((notLeader as TRPCClientError<AppRouter>).shape)).not.toContain('stack');

    const unknown = await get(`${server.url}/trpc/nodes.nothing`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.data.code).toBe('NOT_FOUND');
    const wrongMethod = await get(`${server.url}/trpc/nodes.register`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.error.data.code).toBe('METHOD_NOT_ALLOWED');
    const badJson = await fetch(`${server.url}/trpc/nodes.register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":' });
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as any).error.data.code).toBe('INVALID_INPUT');
    const big = await fetch(`${server.url}/trpc/nodes.register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(2 * 1024 * 1024) });
    expect(big.status).toBe(413);
  });
});
