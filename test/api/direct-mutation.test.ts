import { describe, expect, it } from 'vitest';
import { createClusterClient } from '../../src/client/index.js';
import { FakeCoordinatorService } from './fake-service.js';
import { rawRequest, startServer } from './helpers.js';


/** A server whose table holds n1 (identity id-n1), and what tRPC's own adapter answers (a batch of one) next to the direct path. */
async function serve() {
  const service = new FakeCoordinatorService({ shards: 4 });
  await service.propose({ type: 'registerNode', atMs: 0, reason: 'test', nodeId: 'n1', address: '127.0.0.1:8081', capacity: 8, version: '0.1.0', identity: 'id-n1' });
  const server = await startServer(service);
  const both = async (input: unknown) => {
    const direct = await rawRequest(`${server.url}/trpc/nodes.renewLease`, 'POST', input);
    const viaAdapter = await rawRequest(`${server.url}/trpc/nodes.renewLease?batch=1`, 'POST', { 0: input });
    return { direct, adapter: { status: viaAdapter.status, body: (viaAdapter.body as unknown[])[0] } };
  };
  return { service, server, both };
}

describe('nodes.renewLease answered without the tRPC adapter', () => {
  it('answers exactly as the adapter does: the grant, and each kind of refusal with its status and error shape', async () => {
    const { both } = await serve();
    const granted = await both({ id: 'n1', identity: 'id-n1' });
    expect(granted.direct.status).toBe(200);
    expect(granted.direct.body).toEqual(granted.adapter.body);
    expect(granted.direct.body.result.data).toMatchObject({ leaseMs: 1_000, leader: 'c1', status: 'unknown', shardCount: 4 });

    for (const input of [{ id: 'n9', identity: 'x' }, { id: 'n1', identity: 'other' }, { id: 'n1' }, { id: 'n1', identity: 'id-n1', extra: 1 }]) {
      const { direct, adapter } = await both(input);
      expect(direct.status, JSON.stringify(input)).toBe(adapter.status);
      expect(direct.status).toBeGreaterThanOrEqual(400);
      expect(direct.body).toEqual(adapter.body);
    }
    const missing = await both({ id: 'n1' });
    expect(missing.direct.body.error.data).toMatchObject({ code: 'INVALID_INPUT', httpStatus: 400, path: 'nodes.renewLease' });
    expect(missing.direct.body.error.message).toMatch(/identity/);
  });

  it('refuses a body that is not JSON with 400 naming it, and keeps serving', async () => {
    const { server } = await serve();
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      void import('node:http').then(({ default: http }) => {
        const req = http.request(`${server.url}/trpc/nodes.renewLease`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
          let data = '';
          res.on('data', (c: Buffer) => (data += c.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
        });
        req.on('error', reject);
        req.end('{"id": "n1", ');
      });
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error.data).toMatchObject({ code: 'INVALID_INPUT', path: 'nodes.renewLease' });
    const ok = await rawRequest(`${server.url}/trpc/nodes.renewLease`, 'POST', { id: 'n1', identity: 'id-n1' });
    expect(ok.status).toBe(200);
  });

  it('the typed cluster client (the data node\'s link) gets its grant and its typed refusal through it', async () => {
    const { server } = await serve();
    const client = createClusterClient({ coordinators: [server.address], maxRetries: 0 });
    expect(await client.nodes.renewLease.mutate({ id: 'n1', identity: 'id-n1' })).toMatchObject({ leader: 'c1', leaseMs: 1_000 });
    await expect(client.nodes.renewLease.mutate({ id: 'n9', identity: 'x' })).rejects.toMatchObject({ data: { code: 'NOT_FOUND', httpStatus: 404 } });
  });
});
