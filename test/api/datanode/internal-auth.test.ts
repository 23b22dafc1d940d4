import { describe, expect, it } from 'vitest';
import { createPeerLink } from '../../../src/cli/node-links.js';
import { encodeReplicationFrame, REPLICATION_FRAME_CONTENT_TYPE } from '../../../src/datanode/wire/replication-frame.js';
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
