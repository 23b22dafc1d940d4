/**
 * Where a data node sends each renewal attempt (src/cli/lease-renewer.ts),
 * against small HTTP servers that answer `nodes.renewLease` the way a
 * replica does: a silent one (a paused leader), one that answers NOT_LEADER
 * naming the leader, and the leader, which grants.
 */
import http from 'node:http';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LeaseRenewer } from '../../src/cli/lease-renewer.js';
import type { LeaseGrant } from '../../src/datanode/contract.js';
import { ClusterErrorCode, isClusterError } from '../../src/errors/index.js';

const grant: LeaseGrant = { leaseMs: 1_000, leader: 'c3', term: 4, status: 'healthy', shardCount: 4, maxValueBytes: 1024, shards: [], addresses: {} };
const req = { id: 'n1', identity: 'id-n1' };

type Behaviour = 'silent' | 'grant' | { notLeader: () => string };

interface Replica {
  readonly address: string;
  behaviour: Behaviour;
  hits: number;
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function replica(behaviour: Behaviour): Promise<Replica> {
  const r = { address: '', behaviour, hits: 0 };
  const server = http.createServer((q, res) => {
    q.resume();
    q.on('end', () => {
      if (q.url !== '/trpc/nodes.renewLease') {
        res.writeHead(404).end();
        return;
      }
      r.hits++;
      const b = r.behaviour;
      if (b === 'silent') return;
      if (b === 'grant') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: { data: grant } }));
        return;
      }
      const data = { code: 'NOT_LEADER', message: 'not the leader', httpStatus: 421, leader: 'c3', leaderAddress: b.notLeader() };
      res.writeHead(421, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: data.message, code: -32600, data } }));
    });
  });
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  (r as { address: string }).address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return r;
}

/** One attempt; a replica that answers gets plenty of time (a loaded machine), a silent one is given up after `timeoutMs`. */
async function attempt(renewer: LeaseRenewer, timeoutMs = 5_000): Promise<LeaseGrant | unknown> {
  return renewer.renew(req, AbortSignal.timeout(timeoutMs)).catch((e: unknown) => e);
}

describe('LeaseRenewer', () => {
  it('passes a silent replica on to the next, follows a NOT_LEADER to the leader named, and stays with the replica that answered', async () => {
    const leader = await replica('grant');
    const silent = await replica('silent');
    const follower = await replica({ notLeader: () => leader.address });
    // Next in turn after the follower, but not the leader it names: never asked.
    const decoy = await replica('grant');
    const renewer = new LeaseRenewer({ coordinators: [silent.address, follower.address, decoy.address, leader.address] });

    const first = await attempt(renewer, 100);
    expect(isClusterError(first, ClusterErrorCode.Timeout) || isClusterError(first, ClusterErrorCode.Unavailable)).toBe(true);
    const second = await attempt(renewer);
    expect(isClusterError(second, ClusterErrorCode.NotLeader)).toBe(true);
    expect(follower.hits).toBe(1);
    expect(await attempt(renewer)).toEqual(grant);
    expect(await attempt(renewer)).toEqual(grant);
    // The silent one may not even have read the request before it was given up (a loaded machine): at most once.
    expect(silent.hits).toBeLessThanOrEqual(1);
    expect([follower.hits, decoy.hits, leader.hits]).toEqual([1, 0, 2]);
  });

  it('after the replica that answered fails, goes on from the one after it (a relay through a follower is as good)', async () => {
    const a = await replica('grant');
    const b = await replica('grant');
    const c = await replica('grant');
    const renewer = new LeaseRenewer({ coordinators: [a.address, b.address, c.address] });
    expect(await attempt(renewer)).toEqual(grant);
    a.behaviour = 'silent';
    expect(isClusterError(await attempt(renewer, 100))).toBe(true);
    // b relays (here: grants) from now on; a is not asked again while b answers.
    expect(await attempt(renewer)).toEqual(grant);
    expect(await attempt(renewer)).toEqual(grant);
    expect([b.hits, c.hits]).toEqual([2, 0]);
    const aHits = a.hits;
    b.behaviour = 'silent';
    expect(isClusterError(await attempt(renewer, 100))).toBe(true);
    expect(await attempt(renewer)).toEqual(grant);
    expect([a.hits, c.hits]).toEqual([aHits, 1]);
  });

  it('a replica whose attempt was given up counts as failed at once: the very next attempt goes elsewhere', async () => {
    const a = await replica('grant');
    const b = await replica('grant');
    const renewer = new LeaseRenewer({ coordinators: [a.address, b.address] });
    expect(await attempt(renewer)).toEqual(grant);
    a.behaviour = 'silent';
    const giveUp = new AbortController();
    const first = renewer.renew(req, giveUp.signal).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    giveUp.abort(new Error('attempt timed out'));
    // No tick in between: the keeper starts its next attempt right when it gives up on one.
    const second = renewer.renew(req, AbortSignal.timeout(1_000));
    expect(await second).toEqual(grant);
    expect(isClusterError(await first)).toBe(true);
    expect(b.hits).toBe(1);
    expect(a.hits).toBeLessThanOrEqual(2);
  });

  it('refuses a grant of the wrong shape as UNAVAILABLE naming the field', async () => {
    const bad = await replica('grant');
    const renewer = new LeaseRenewer({ coordinators: [bad.address] });
    const original = grant.leaseMs;
    (grant as { leaseMs: number }).leaseMs = -5;
    try {
      const err = await attempt(renewer);
      expect(isClusterError(err, ClusterErrorCode.Unavailable)).toBe(true);
      expect((err as Error).message).toMatch(/leaseMs/);
    } finally {
      (grant as { leaseMs: number }).leaseMs = original;
    }
  });
});
