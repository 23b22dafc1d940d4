import { describe, expect, it } from 'vitest';
import { createPeerLink } from '../../../src/cli/node-links.js';
import { encodeReplicationFrame, REPLICATION_FRAME_CONTENT_TYPE } from '../../../src/datanode/wire/replication-frame.js';
import { Authenticator } from '../../../src/api/auth/index.js';
import { hashToken } from '../../../src/config/index.js';
import { request, sampleBatch, startNodeServer } from './helpers.js';

const TOKEN = 't'.repeat(40);

describe('a data node with the internal token', () => {
  it('refuses replication, recovery and handoff without it (401), and the service sees nothing', async () => {
    const { node, url } = await startNodeServer({ internalToken: TOKEN });
    const frame = encodeReplicationFrame(sampleBatch());
    const attempts = [
      await request(url, 'POST', '/peer/replicate', frame, { 'content-type': REPLICATION_FRAME_CONTENT_TYPE }),
      await request(url, 'POST', '/trpc/recovery.begin', JSON.stringify({ shard: 3, epoch: 4, replica: 'n9' }), { 'content-type': 'application/json' }),
      await request(url, 'POST', '/trpc/handoff', JSON.stringify({ shard: 3, epoch: 4 }), { 'content-type': 'application/json', authorization: 'Bearer wrong-token' }),
      await request(url, 'POST', '/trpc/recovery.page,handoff?batch=1', '{}', { 'content-type': 'application/json' }),
    ];
    expect(attempts.map((a) => [a.status, a.json?.error?.code])).toEqual(Array.from({ length: 4 }, () => [401, 'UNAUTHENTICATED']));
    expect(node.calls.filter((c) => !['info', 'health'].includes(c.method))).toEqual([]);
    // The node's own views stay open.
    expect((await request(url, 'GET', '/trpc/health')).status).toBe(200);
    expect((await request(url, 'GET', '/health')).status).toBe(200);
  });

  it('a peer link with the token gets through', async () => {
    const { node, server } = await startNodeServer({ internalToken: TOKEN });
    const ack = await createPeerLink({ token: TOKEN }).replicate(server.address, sampleBatch());
    expect(ack).toBeDefined();
    expect(node.calls.some((c) => c.method === 'replicate')).toBe(true);
    await expect(createPeerLink({ token: 'x'.repeat(40) }).replicate(server.address, sampleBatch())).rejects.toThrow();
  });
});

describe("a data node's own REST with the cluster's tokens", () => {
  it('answers /data to a reader (GET) and a writer (PUT, DELETE) only, 401 and 403 changing nothing; /health stays open', async () => {
    const reader = 'viewer.reader-secret-0123456789';
    const writer = 'app.writer-secret-0123456789';
    const tokens = [
      { name: 'viewer', role: 'reader' as const, hash: await hashToken(reader) },
      { name: 'app', role: 'writer' as const, hash: await hashToken(writer) },
    ];
    const authenticator = new Authenticator({ tokens, internalToken: TOKEN, openMetrics: false });
    const { node, url } = await startNodeServer({ internalToken: TOKEN, authenticator });
    const as = (token: string) => ({ authorization: `Bearer ${token}` });

    const refused = [
      await request(url, 'GET', '/data/k'),
      await request(url, 'PUT', '/data/k', 'v', { authorization: 'Bearer app.not-the-secret' }),
      await request(url, 'PUT', '/data/k?epoch=1', 'v', as(reader)),
      await request(url, 'DELETE', '/data/k', undefined, as(reader)),
      await request(url, 'GET', '/metrics'),
    ];
    expect(refused.map((a) => [a.status, a.json?.error?.code])).toEqual([
      [401, 'UNAUTHENTICATED'],
      [401, 'UNAUTHENTICATED'],
      [403, 'FORBIDDEN'],
      [403, 'FORBIDDEN'],
      [401, 'UNAUTHENTICATED'],
    ]);
    expect(node.calls.filter((c) => c.method === 'put' || c.method === 'get' || c.method === 'delete')).toEqual([]);

    expect((await request(url, 'PUT', '/data/k', 'v', as(writer))).status).toBeLessThan(300);
    expect((await request(url, 'GET', '/data/k', undefined, as(reader))).bytes.toString()).toBe('v');
    // A coordinator relaying an authorised request shows the internal token.
    expect((await request(url, 'GET', '/data/k', undefined, as(TOKEN))).bytes.toString()).toBe('v');
    expect((await request(url, 'GET', '/metrics', undefined, as(reader))).status).toBe(200);
    expect((await request(url, 'GET', '/health')).status).toBe(200);
    expect((await request(url, 'GET', '/info')).status).toBe(200);
  });
});

