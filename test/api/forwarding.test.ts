import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import type { AppRouter } from '../../src/api/coordinator/index.js';
import type { NewMember } from '../../src/coordinator/service.js';
import { FakeCoordinatorService } from './fake-service.js';
import { rawRequest, startServer } from './helpers.js';

const NEW_MEMBER = { id: 'c4', host: '127.0.0.14', apiPort: 7004, peerPort: 7104 };

async function post(url: string, path: string, body: unknown) {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
}

/** A follower (c1) whose leader (c2) runs its own server. */
async function followerAndLeader() {
  const leaderService = new FakeCoordinatorService({ id: 'c2' });
  const leader = await startServer(leaderService);
  const followerService = new FakeCoordinatorService({ id: 'c1' }).followerOf('c2', leader.address);
  const follower = await startServer(followerService);
  return { leaderService, leader, followerService, follower };
}

describe('leaderProcedure forwarding', () => {
  it('a follower forwards a membership change to the leader and answers with the leader’s answer (REST)', async () => {
    const { leaderService, follower, followerService } = await followerAndLeader();
    const added = await post(follower.url, '/cluster/members', NEW_MEMBER);
    expect(added).toEqual({ status: 200, body: { member: { id: 'c4', host: '127.0.0.14', api_port: 7004, peer_port: 7104 } } });
    expect(followerService.membershipCalls).toEqual(['add c4']);
    expect(leaderService.membershipCalls).toEqual(['add c4']);
    expect(Object.keys(leaderService.state.members)).toContain('c4');
    const moved = await post(follower.url, '/cluster/leader/transfer', { to: 'c3' });
    expect(moved).toEqual({ status: 200, body: { leader: 'c3' } });
    expect(leaderService.leader).toBe('c3');
  });

  it('forwards tRPC calls too, and passes the leader’s refusal on unchanged', async () => {
    const { follower, leaderService } = await followerAndLeader();
    const client = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${follower.url}/trpc` })] });
    expect(await client.members.remove.mutate({ id: 'c2' })).toEqual({ removed: 'c2' });
    expect(leaderService.membershipCalls).toEqual(['remove c2']);
    const refused = await client.members.remove.mutate({ id: 'c9' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TRPCClientError);
    const data = (refused as TRPCClientError<AppRouter>).data;
    expect(data).toMatchObject({ code: 'NOT_FOUND', resource: 'member', id: 'c9', httpStatus: 404, message: 'no member c9' });
    const rest = await fetch(`${follower.url}/cluster/members/c9`, { method: 'DELETE' });
    expect(rest.status).toBe(404);
    expect(await rest.json()).toEqual({ error: { code: 'NOT_FOUND', resource: 'member', id: 'c9', message: 'no member c9' } });
  });

  it('never forwards twice: two replicas that each think the other leads answer 421, one hop each', async () => {
    const a = new FakeCoordinatorService({ id: 'c1' });
    const b = new FakeCoordinatorService({ id: 'c2' });
    const serverA = await startServer(a);
    const serverB = await startServer(b);
    a.followerOf('c2', serverB.address);
    b.followerOf('c1', serverA.address);
    const answer = await rawRequest(`${serverA.url}/cluster/members`, 'POST', NEW_MEMBER);
    expect(answer.status).toBe(421);
    expect(answer.body.error).toMatchObject({ code: 'NOT_LEADER', leader: 'c1', leaderAddress: serverA.address });
    expect(a.membershipCalls).toEqual(['add c4']);
    expect(b.membershipCalls).toEqual(['add c4']);
  });

  it('an unreachable leader is 503 UNAVAILABLE; one that does not answer in time is 504 TIMEOUT', async () => {
    const gone = await startServer(new FakeCoordinatorService({ id: 'c2' }));
    const goneAddress = gone.address;
    await gone.close();
    const follower = await startServer(new FakeCoordinatorService({ id: 'c1' }).followerOf('c2', goneAddress));
    const unreachable = await post(follower.url, '/cluster/members', NEW_MEMBER);
    expect(unreachable.status).toBe(503);
    expect(unreachable.body.error).toMatchObject({ code: 'UNAVAILABLE' });
    expect(unreachable.body.error.reason).toContain('c2');

    class HangingLeader extends FakeCoordinatorService {
      override addMember(_member: NewMember): Promise<void> {
        return new Promise(() => {});
      }
    }
    const slow = await startServer(new HangingLeader({ id: 'c3' }));
    const waiting = await startServer(new FakeCoordinatorService({ id: 'c1' }).followerOf('c3', slow.address), { forwardTimeoutMs: 150 });
    const timedOut = await post(waiting.url, '/cluster/members', NEW_MEMBER);
    expect(timedOut.status).toBe(504);
    expect(timedOut.body.error).toMatchObject({ code: 'TIMEOUT', timeoutMs: 150 });
  });

  it('with no leader known, a leader-only call is 503 NO_LEADER without any forwarding', async () => {
    const service = new FakeCoordinatorService({ id: 'c1' }).leaderless();
    const server = await startServer(service);
    const answer = await post(server.url, '/cluster/members', NEW_MEMBER);
    expect(answer).toMatchObject({ status: 503, body: { error: { code: 'NO_LEADER' } } });
  });
});
