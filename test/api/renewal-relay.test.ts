import { describe, expect, it } from 'vitest';
import { LeaseRenewer } from '../../src/cli/lease-renewer.js';
import { FakeCoordinatorService } from './fake-service.js';
import { rawRequest, startServer, waitFor } from './helpers.js';

/** A leader holding n1..n<count> (identity id-<id>) and a follower relaying to it, both real HTTP servers. */
async function pair(count: number) {
  const leader = new FakeCoordinatorService({ id: 'c1', shards: 4 });
  for (let i = 1; i <= count; i++) {
    await leader.propose({ type: 'registerNode', atMs: 0, reason: 'test', nodeId: `n${i}`, address: `127.0.0.1:${8000 + i}`, capacity: 8, version: '0.1.0', identity: `id-n${i}` });
  }
  const leaderServer = await startServer(leader);
  leader.addresses.set('c1', leaderServer.address);
  const follower = new FakeCoordinatorService({ id: 'c2', shards: 4 }).followerOf('c1', leaderServer.address);
  const followerServer = await startServer(follower);
  let batches = 0;
  const reads = leader.read.bind(leader);
  leader.read = async (consistency, timeoutMs) => {
    if (consistency === 'linearizable') batches++;
    return reads(consistency, timeoutMs);
  };
  return { leader, leaderServer, follower, followerServer, batches: () => batches };
}

describe('lease renewals relayed by a follower in batches', () => {
  it('answers each node as the leader would, with one leadership check for renewals arriving together', async () => {
    const { leader, leaderServer, follower, followerServer, batches } = await pair(40);
    // The leader's ReadIndex is held until all 42 renewals reached the follower (it looks up the leader's address
    // for each it relays), or at most 900 ms (the relay gives a batch 1 s): those arriving meanwhile share a batch.
    let open = (): void => undefined;
    leader.readGate = new Promise<void>((r) => (open = r));
    const timer = setTimeout(() => open(), 900);
    let relayed = 0;
    const addressOf = follower.apiAddressOf.bind(follower);
    follower.apiAddressOf = (id) => {
      if (++relayed === 42) {
        clearTimeout(timer);
        setTimeout(() => open(), 20);
      }
      return addressOf(id);
    };
    const inputs = [
      ...Array.from({ length: 40 }, (_, i) => ({ id: `n${i + 1}`, identity: `id-n${i + 1}` })),
      { id: 'n99', identity: 'x' },
      { id: 'n1', identity: 'other' },
    ];
    const answers = await Promise.all(inputs.map((input) => rawRequest(`${followerServer.url}/trpc/nodes.renewLease`, 'POST', input)));
    for (let i = 0; i < 40; i++) {
      expect(answers[i]!.status, JSON.stringify(answers[i]!.body)).toBe(200);
      expect(answers[i]!.body.result.data).toMatchObject({ leaseMs: 1_000, leader: 'c1', leaderAddress: leaderServer.address, status: 'unknown', shardCount: 4 });
    }
    // The refusals are the leader's own, as a direct call would get them.
    const direct = await Promise.all(inputs.slice(40).map((input) => rawRequest(`${leaderServer.url}/trpc/nodes.renewLease`, 'POST', input)));
    expect(answers[40]!.status).toBe(404);
    expect(answers[41]!.status).toBe(409);
    expect(answers[40]!.body.error.data).toMatchObject({ code: 'NOT_FOUND' });
    expect(answers[41]!.body.error.data).toMatchObject({ code: 'CONFLICT', reason: 'IDENTITY_CONFLICT' });
    expect(answers[40]!.body.error.message).toBe(direct[0]!.body.error.message);
    // 42 renewals at once (2 of them asked of the leader directly above): fewer leadership checks than renewals.
    expect(batches()).toBeGreaterThanOrEqual(1);
    expect(batches()).toBeLessThan(20);
  });

  it('a renewal the follower cannot validate is refused there with 400 naming the field; a silent leader gives UNAVAILABLE or TIMEOUT', async () => {
    const { leader, followerServer } = await pair(1);
    const bad = await rawRequest(`${followerServer.url}/trpc/nodes.renewLease`, 'POST', { id: 'n1' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/identity/);
    leader.readGate = new Promise(() => undefined);
    const slow = await rawRequest(`${followerServer.url}/trpc/nodes.renewLease`, 'POST', { id: 'n1', identity: 'id-n1' });
    expect([503, 504]).toContain(slow.status);
  });

  it('the leader refuses a batch with a bad entry, naming the field, and a batch beyond its bound', async () => {
    const { leaderServer } = await pair(1);
    const bad = await rawRequest(`${leaderServer.url}/trpc/nodes.renewLeases`, 'POST', { renewals: [{ id: 'n1', identity: 'id-n1' }, { id: 'n1' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/renewals/);
    const many = await rawRequest(`${leaderServer.url}/trpc/nodes.renewLeases`, 'POST', { renewals: Array.from({ length: 257 }, () => ({ id: 'n1', identity: 'id-n1' })) });
    expect(many.status).toBe(400);
    const empty = await rawRequest(`${leaderServer.url}/trpc/nodes.renewLeases`, 'POST', { renewals: [] });
    expect(empty.status).toBe(400);
  });

  it("a data node's renewer moves from the leader to a follower, which relays; a follower that fails is avoided", async () => {
    const { leaderServer, followerServer } = await pair(1);
    const renewer = new LeaseRenewer({ coordinators: [leaderServer.address, followerServer.address] });
    const req = { id: 'n1', identity: 'id-n1' };
    expect(renewer.next()).toBe(leaderServer.address);
    expect(await renewer.renew(req)).toMatchObject({ leader: 'c1', leaderAddress: leaderServer.address });
    // The leader answered itself: the next renewals go through the follower.
    expect(renewer.next()).toBe(followerServer.address);
    expect(await renewer.renew(req)).toMatchObject({ leader: 'c1', leaderAddress: leaderServer.address });
    expect(await renewer.renew(req)).toMatchObject({ leader: 'c1' });
    expect(renewer.next()).toBe(followerServer.address);
    await followerServer.close();
    await expect(renewer.renew(req)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // The follower failed: the leader grants, and the node stays with it for a while.
    expect(await renewer.renew(req)).toMatchObject({ leader: 'c1' });
    expect(renewer.next()).toBe(leaderServer.address);
  });

  it('a renewal relayed to a leader that went silent is answered by the new leader as soon as there is one', async () => {
    const register = { type: 'registerNode', atMs: 0, reason: 'test', nodeId: 'n1', address: '127.0.0.1:8001', capacity: 8, version: '0.1.0', identity: 'id-n1' } as const;
    const req = { id: 'n1', identity: 'id-n1' };

    // The follower itself is elected: it grants the renewal it was relaying.
    const one = await pair(1);
    one.leader.readGate = new Promise(() => undefined);
    const { follower } = one;
    await follower.propose(register);
    const waiting = rawRequest(`${one.followerServer.url}/trpc/nodes.renewLease`, 'POST', req);
    await waitFor('the renewal relayed to the leader', () => one.batches() > 0);
    follower.becomeLeader();
    const granted = await waiting;
    expect(granted.status, JSON.stringify(granted.body)).toBe(200);
    expect(granted.body.result.data).toMatchObject({ leader: 'c2' });

    // Another replica is elected: the follower sends the renewal on to it.
    const two = await pair(1);
    two.leader.readGate = new Promise(() => undefined);
    const elected = new FakeCoordinatorService({ id: 'c3', shards: 4 });
    await elected.propose(register);
    const electedServer = await startServer(elected);
    const relayed = rawRequest(`${two.followerServer.url}/trpc/nodes.renewLease`, 'POST', req);
    await waitFor('the renewal relayed to the leader', () => two.batches() > 0);
    two.follower.followerOf('c3', electedServer.address);
    const answer = await relayed;
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.result.data).toMatchObject({ leader: 'c3' });
  });
});
