import http from 'node:http';
import net from 'node:net';
import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import type { ReplicationBatch } from '../../../src/datanode/contract.js';
import { createNodeClient } from '../../../src/client/node-client.js';
import { ClusterError, ClusterErrorCode } from '../../../src/errors/index.js';
import { sampleBatch, startNodeServer } from './helpers.js';
import { canBind } from '../../support/can-bind.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

const batch = sampleBatch;

/** The §7 data of a failed call. */
async function failureOf(call: Promise<unknown>): Promise<Record<string, unknown>> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCClientError);
  return (err as TRPCClientError<any>).data as Record<string, unknown>;
}

describe('data node tRPC router through createNodeClient', () => {
  it('calls every procedure with its input as given and answers with the service’s result', async () => {
    const { node, server } = await startNodeServer();
    const client = createNodeClient(server.address);
    expect(await client.replicate.mutate(batch())).toEqual({ ackedSeq: 12 });
    expect(node.lastArgs('replicate')).toEqual([batch()]);
    expect(await client.recovery.begin.mutate({ shard: 3, epoch: 4, replica: 'n3' })).toEqual({ recoveryId: 'r-3-n3', snapshotSeq: 7, totalKeys: 0 });
    node.values.set('k', new Uint8Array([1, 2, 3]));
    expect(await client.recovery.page.mutate({ recoveryId: 'r-3-n3', limit: 100 })).toEqual({ entries: [{ key: 'k', value: 'AQID' }], done: true });
    expect(await client.recovery.finish.mutate({ recoveryId: 'r-3-n3', lastSeq: 12 })).toEqual({ epoch: 5 });
    expect(await client.handoff.mutate({ shard: 3, epoch: 4 })).toEqual({ lastSeq: 10, caughtUp: true });
    expect(await client.info.query()).toMatchObject({ id: 'n1', shards: [{ id: 3 }] });
    expect(await client.health.query()).toMatchObject({ status: 'ok', id: 'n1' });
    expect(createNodeClient(server.address), 'cached per address').toBe(client);
  });

  it('refuses inputs outside the schemas with INVALID_INPUT naming the field, before the service sees them', async () => {
    const { node, server } = await startNodeServer();
    const client = createNodeClient(server.address);
    const cases: readonly { input: unknown; field: RegExp }[] = [
      { input: batch({ shard: 65_536 }), field: /^shard: expected an integer from 0 to 65535/ },
      { input: batch({ epoch: -1 }), field: /^epoch: / },
      { input: batch({ primary: 'no such id!' }), field: /^primary: / },
      { input: batch({ firstSeq: 10 }), field: /^ops\[0\]\.seq: expected 10 \(ops are contiguous from firstSeq 10\)/ },
      { input: batch({ ops: [{ seq: 11, key: 'a', value: b64('x') }, { seq: 13, key: 'b', value: null }] }), field: /^ops\[1\]\.seq: expected 12/ },
      { input: batch({ ops: [{ seq: 11, key: 'a', value: 'not base64!' }] }), field: /^ops\[0\]\.value: expected base64/ },
      { input: batch({ ops: [{ seq: 11, key: '', value: null }] }), field: /^ops\[0\]\.key: expected 1 to 1024 bytes/ },
      { input: batch({ ops: [{ seq: 11, key: 'x'.repeat(1025), value: null }] }), field: /^ops\[0\]\.key: expected at most 1024 bytes/ },
      { input: { ...batch(), extra: true }, field: /^extra: unknown key/ },
      {
        input: batch({ firstSeq: 1, ops: Array.from({ length: 10_001 }, (_, i) => ({ seq: i + 1, key: 'k', value: null })) }),
        field: /^ops: expected at most 10000 ops/,
      },
    ];
    for (const { input, field } of cases) {
      const data = await failureOf(client.replicate.mutate(input as ReplicationBatch));
      expect(data, String(field)).toMatchObject({ code: 'INVALID_INPUT', httpStatus: 400, path: 'replicate' });
      expect((data['issues'] as string[])[0], String(field)).toMatch(field);
    }
    const page = await failureOf(client.recovery.page.mutate({ recoveryId: 'r-1', limit: 0 }));
    expect((page['issues'] as string[])[0]).toMatch(/^limit: /);
    const begin = await failureOf(client.recovery.begin.mutate({ shard: 1, epoch: 1 } as never));
    expect((begin['issues'] as string[])[0]).toMatch(/^replica: .*missing/);
    const handoff = await failureOf(client.handoff.mutate({ shard: 1.5, epoch: 1 }));
    expect((handoff['issues'] as string[])[0]).toMatch(/^shard: /);
    expect(node.calls.map((c) => c.method)).toEqual([]);
  });

  it('passes the service’s ClusterErrors to the caller with their code and payload', async () => {
    const { node, server } = await startNodeServer();
    const client = createNodeClient(server.address);
    node.failWith('replicate', new ClusterError({ code: ClusterErrorCode.StaleEpoch, shard: 3, expectedEpoch: 4, currentEpoch: 6 }, 'shard 3 is at epoch 6'));
    expect(await failureOf(client.replicate.mutate(batch()))).toEqual({
      code: 'STALE_EPOCH',
      message: 'shard 3 is at epoch 6',
      shard: 3,
      expectedEpoch: 4,
      currentEpoch: 6,
      httpStatus: 409,
      path: 'replicate',
    });
    node.failWith('replicate', new ClusterError({ code: ClusterErrorCode.Conflict, reason: 'RESYNC' }, 'gap in shard 3'));
    expect(await failureOf(client.replicate.mutate(batch()))).toMatchObject({ code: 'CONFLICT', reason: 'RESYNC', httpStatus: 409 });
    node.failWith('handoff', new ClusterError({ code: ClusterErrorCode.NotPrimary, shard: 3, primary: 'n2' }, 'not the primary'));
    expect(await failureOf(client.handoff.mutate({ shard: 3, epoch: 4 }))).toMatchObject({ code: 'NOT_PRIMARY', primary: 'n2', httpStatus: 421 });
    node.failWith('info', new Error('a bug with /secret/path'));
    const internal = await failureOf(client.info.query());
    expect(internal).toMatchObject({ code: 'INTERNAL', httpStatus: 500 });
    expect(JSON.stringify(internal)).not.toContain('/secret/path');
  });

  it('takes batches far over the coordinator API’s 1 MiB body limit, and refuses bodies over its own with 413 naming that limit', async () => {
    const { node, server } = await startNodeServer({ maxValueBytes: 4 * 1024 * 1024, maxTrpcBodyBytes: 8 * 1024 * 1024 });
    const client = createNodeClient(server.address);
    const value = Buffer.alloc(3 * 1024 * 1024, 1).toString('base64');
    expect(await client.replicate.mutate(batch({ ops: [{ seq: 11, key: 'big', value }] }))).toEqual({ ackedSeq: 11 });

    const overValueLimit = Buffer.alloc(4 * 1024 * 1024 + 1).toString('base64');
    expect(await failureOf(client.replicate.mutate(batch({ ops: [{ seq: 11, key: 'big', value: overValueLimit }] })))).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      limitBytes: 4 * 1024 * 1024,
      sizeBytes: 4 * 1024 * 1024 + 1,
    });
    const overBodyLimit = Buffer.alloc(7 * 1024 * 1024).toString('base64');
    const data = await failureOf(client.replicate.mutate(batch({ ops: [{ seq: 11, key: 'a', value: overBodyLimit }] })));
    expect(data).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', limitBytes: 8 * 1024 * 1024, httpStatus: 413 });
    expect(node.calls.filter((c) => c.method === 'replicate')).toHaveLength(1);
  });

  it('gives up on a node that does not answer within timeoutMs', async () => {
    // A server that accepts and never answers.
    const silent = http.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const client = createNodeClient(`127.0.0.1:${port}`, { timeoutMs: 200 });
      const err = await client.health.query().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TRPCClientError);
      expect(String((err as Error).cause)).toMatch(/no answer from 127\.0\.0\.1:\d+ within 200 ms/);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});


const aliases = ['127.0.0.11', '127.0.0.12'] as const;
const usable = (await canBind(aliases[0])) && (await canBind(aliases[1]));
if (!usable) console.warn(`trpc.test.ts: localAddress test skipped, cannot bind ${aliases.join(' and ')} on this machine`);

describe.skipIf(!usable)('createNodeClient on loopback aliases', () => {
  it('dials from localAddress, over one kept-alive connection', async () => {
    const seen: string[] = [];
    const sockets = new Set<net.Socket>();
    const server = http.createServer((req, res) => {
      seen.push(`${req.socket.remoteAddress}:${req.socket.remotePort}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: { data: { status: 'ok' } } }));
    });
    server.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => server.listen(0, aliases[1], r));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const client = createNodeClient(`${aliases[1]}:${port}`, { localAddress: aliases[0] });
      await client.health.query();
      await client.health.query();
      expect(seen).toHaveLength(2);
      expect(seen[0]?.startsWith(`${aliases[0]}:`)).toBe(true);
      expect(seen[1]).toBe(seen[0]);
      expect(sockets.size).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
