import http from 'node:http';
import net from 'node:net';
import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import { createCoordinatorLink, createPeerLink } from '../../src/cli/node-links.js';
import type { ClusterClient } from '../../src/client/index.js';
import type { LeaseGrant, ReplicationBatch } from '../../src/datanode/contract.js';
import { ClusterError, ClusterErrorCode, isClusterError } from '../../src/errors/index.js';
import { startNodeServer } from '../api/datanode/helpers.js';

const batch: ReplicationBatch = { shard: 2, epoch: 3, primary: 'n2', firstSeq: 1, ops: [{ seq: 1, key: 'k', value: 'dg==' }] };

async function rejection(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
}

describe('PeerLink over the node router', () => {
  it('answers with the peer’s results, and its refusals as the same ClusterError (code and payload)', async () => {
    const { node, server } = await startNodeServer();
    const link = createPeerLink({ localAddress: '127.0.0.1' });
    expect(await link.replicate(server.address, batch)).toEqual({ ackedSeq: 1 });
    expect(await link.beginRecovery(server.address, { shard: 2, epoch: 3, replica: 'n3' })).toMatchObject({ recoveryId: 'r-2-n3' });
    expect(await link.recoveryPage(server.address, { recoveryId: 'r-2-n3', limit: 10 })).toEqual({ entries: [], done: true });
    expect(await link.finishRecovery(server.address, { recoveryId: 'r-2-n3', lastSeq: 1 })).toEqual({ epoch: 5 });

    const stale = { code: ClusterErrorCode.StaleEpoch, shard: 2, expectedEpoch: 3, currentEpoch: 4 } as const;
    node.failWith('replicate', new ClusterError(stale, 'shard 2 is at epoch 4'));
    const err = await rejection(link.replicate(server.address, batch));
    expect(isClusterError(err, ClusterErrorCode.StaleEpoch)).toBe(true);
    expect((err as ClusterError).type).toEqual(stale);
    expect((err as ClusterError).message).toBe('shard 2 is at epoch 4');

    node.failWith('replicate', new ClusterError({ code: ClusterErrorCode.Conflict, reason: 'RESYNC' }, 'gap'));
    const resync = await rejection(link.replicate(server.address, batch));
    expect(isClusterError(resync, ClusterErrorCode.Conflict) && resync.type.reason).toBe('RESYNC');

    const invalid = await rejection(link.recoveryPage(server.address, { recoveryId: 'r', limit: -1 }));
    expect(isClusterError(invalid, ClusterErrorCode.InvalidInput) && invalid.type.issues?.[0]).toMatch(/^limit: /);
  });

  it('turns no answer into UNAVAILABLE naming the peer, and no answer in time into TIMEOUT', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await rejection(createPeerLink().replicate(`127.0.0.1:${deadPort}`, batch));
    expect(isClusterError(refused, ClusterErrorCode.Unavailable) && refused.type.reason).toBe(`replicate on 127.0.0.1:${deadPort}: connection refused`);

    const silent = http.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const address = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
      const timedOut = await rejection(createPeerLink({ timeoutMs: 100 }).replicate(address, batch));
      expect(isClusterError(timedOut, ClusterErrorCode.Timeout) && timedOut.type).toEqual({ code: 'TIMEOUT', operation: `replicate on ${address}`, timeoutMs: 100 });
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });
});

/** A TRPCClientError as the cluster client throws for an error answer. */
function answerError(data: Record<string, unknown>): TRPCClientError<any> {
  return new TRPCClientError(String(data['message']), { result: { error: { code: -32600, message: String(data['message']), data } } } as never);
}

describe('CoordinatorLink over the cluster client', () => {
  it('calls nodes.register, nodes.renewLease, shards.setInSync and nodes.drain with their inputs, and returns their answers', async () => {
    const calls: [string, unknown][] = [];
    const grant: LeaseGrant = { leaseMs: 3_000, leader: 'c1', term: 2, status: 'healthy', shardCount: 4, maxValueBytes: 1024, shards: [], addresses: {} };
    const procedure = (name: string, answer: unknown) => ({
      mutate: async (input: unknown) => {
        calls.push([name, input]);
        return answer;
      },
    });
    const client = {
      nodes: { register: procedure('nodes.register', { id: 'n1' }), renewLease: procedure('nodes.renewLease', grant), drain: procedure('nodes.drain', {}) },
      shards: { setInSync: procedure('shards.setInSync', { epoch: 9 }) },
    } as unknown as ClusterClient;
    const link = createCoordinatorLink(client);
    await link.register({ id: 'n1', address: '127.0.0.1:8081', capacity: 4, version: '0.1.0', identity: 'abc', labels: { zone: 'a' } });
    expect(await link.renewLease({ id: 'n1', identity: 'abc' })).toEqual(grant);
    expect(await link.setInSync({ shard: 2, node: 'n3', inSync: true, expectedEpoch: 8, reason: 'recovered' })).toEqual({ epoch: 9 });
    await link.drain('n1', 'SIGTERM');
    expect(calls).toEqual([
      ['nodes.register', { id: 'n1', address: '127.0.0.1:8081', capacity: 4, version: '0.1.0', identity: 'abc', labels: { zone: 'a' } }],
      ['nodes.renewLease', { id: 'n1', identity: 'abc' }],
      ['shards.setInSync', { id: 2, nodeId: 'n3', inSync: true, expectedEpoch: 8, reason: 'recovered' }],
      ['nodes.drain', { id: 'n1', reason: 'SIGTERM' }],
    ]);
  });

  it('passes the coordinators’ refusals on as ClusterErrors (CONFLICT for another identity, STALE_EPOCH with its epochs)', async () => {
    const failing = (data: Record<string, unknown>) => ({
      mutate: async () => {
        throw answerError(data);
      },
    });
    const client = {
      nodes: {
        register: failing({ code: 'CONFLICT', message: 'n1 is registered with another identity', reason: 'IDENTITY_MISMATCH', httpStatus: 409, path: 'nodes.register' }),
        renewLease: failing({ code: 'UNAVAILABLE', message: 'nodes.renewLease: no coordinator could serve it', httpStatus: 503, retriesExhausted: true }),
      },
      shards: { setInSync: failing({ code: 'STALE_EPOCH', message: 'shard 2 moved on', shard: 2, expectedEpoch: 8, currentEpoch: 9, httpStatus: 409 }) },
    } as unknown as ClusterClient;
    const link = createCoordinatorLink(client);
    const conflict = await rejection(link.register({ id: 'n1', address: 'a:1', capacity: 1, version: 'v', identity: 'x' }));
    expect(isClusterError(conflict, ClusterErrorCode.Conflict) && conflict.type).toEqual({ code: 'CONFLICT', reason: 'IDENTITY_MISMATCH' });
    expect((conflict as Error).message).toBe('n1 is registered with another identity');
    const stale = await rejection(link.setInSync({ shard: 2, node: 'n3', inSync: false, expectedEpoch: 8, reason: 'lagging' }));
    expect(isClusterError(stale, ClusterErrorCode.StaleEpoch) && stale.type).toEqual({ code: 'STALE_EPOCH', shard: 2, expectedEpoch: 8, currentEpoch: 9 });
    const gaveUp = await rejection(link.renewLease({ id: 'n1', identity: 'x' }));
    expect(isClusterError(gaveUp, ClusterErrorCode.Unavailable) && gaveUp.type.reason).toBe('nodes.renewLease: no coordinator could serve it');
  });
});
