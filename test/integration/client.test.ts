/**
 * `torua/client` (the package export, from dist/) against three real
 * coordinator processes: it finds the leader, writes through it and reads
 * back from every replica, follows a leader change after SIGKILL of the
 * leader within its bounded retries, streams events, and ends with a clear
 * error once no coordinator answers. Also `torua status --json` on the
 * same kind of cluster, with a replica down.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ClusterUnavailableError, createClusterClient, createReplicaClient, errorCodeOf, leaderOf, probeReplicas, type EventInfo } from 'torua/client';
import { expectBuilt, useTestClusters, waitFor, type TestCluster } from '../support/coordinator-processes.js';

const clusters = useTestClusters();
beforeAll(expectBuilt);

async function leaderNow(cluster: TestCluster, except?: string): Promise<{ id: string; address: string; term: number }> {
  return waitFor(`a leader${except ? ` other than ${except}` : ''}`, async () => {
    const found = leaderOf(await probeReplicas(cluster.addresses, { timeoutMs: 1_000 }));
    return found !== undefined && found.id !== except ? found : undefined;
  });
}

/**
 * A linearizable read on one replica. A replica that has not heard from the
 * new leader yet answers NO_LEADER (retryable, by design): wait that out,
 * fail on anything else.
 */
async function nodeIdsOn(address: string): Promise<string[]> {
  const client = createReplicaClient(address);
  return waitFor(`a linearizable read on ${address}`, async () => {
    try {
      return (await client.nodes.list.query()).nodes.map((n) => n.id).sort();
    } catch (e) {
      if (errorCodeOf(e) === 'NO_LEADER') return undefined;
      throw e;
    }
  }, 10_000);
}

describe('torua/client against real coordinators', () => {
  it('finds the leader, writes through it, reads back everywhere; follows a SIGKILLed leader with bounded retries', async () => {
    const cluster = await clusters.create();
    cluster.startAll();
    const first = await leaderNow(cluster);
    // The leader is not first in the list: the client has to find it.
    const ordered = [...cluster.addresses.filter((a) => a !== first.address), first.address];
    const client = createClusterClient({ coordinators: ordered, timeoutMs: 3_000, maxRetries: 10 });

    const health = await client.cluster.health.query();
    expect(health).toMatchObject({ id: first.id, role: 'leader' });
    const registered = await client.nodes.register.mutate({ id: 'n1', address: '127.0.0.1:9', capacity: 4 });
    expect(registered).toMatchObject({ id: 'n1', capacity: 4, status: 'unknown' });
    expect((await client.nodes.get.query({ id: 'n1' })).address).toBe('127.0.0.1:9');
    for (const address of cluster.addresses) expect(await nodeIdsOn(address), address).toEqual(['n1']);

    const events: EventInfo[] = [];
    const sub = client.events.subscribe.subscribe({ since: 0 }, { onData: (e) => events.push(e.data), onError: () => undefined });
    await waitFor('the registration event on the stream', () => (events.some((e) => e.node === 'n1') ? true : undefined));

    await cluster.kill(first.id, 'SIGKILL');
    const started = performance.now();
    // Sent at once: the first attempts hit the dead leader or a replica without a leader; the retries find the new one.
    await client.nodes.register.mutate({ id: 'n2', address: '127.0.0.1:9' });
    const failoverMs = performance.now() - started;
    const second = await leaderNow(cluster, first.id);
    expect((await client.cluster.health.query()).id).toBe(second.id);
    const survivors = cluster.replicas.filter((r) => r.id !== first.id).map((r) => r.address);
    for (const address of survivors) expect(await nodeIdsOn(address), address).toEqual(['n1', 'n2']);
    await waitFor('the event of the write after the failover, on the same subscription', () => (events.some((e) => e.node === 'n2') ? true : undefined));
    expect(events.filter((e) => e.node === 'n1' && e.kind === 'node-registered')).toHaveLength(1);
    sub.unsubscribe();
    console.info(`client: write after SIGKILL of the leader acknowledged in ${failoverMs.toFixed(0)} ms`);
  });

  it('says clearly, after its retries, that no coordinator answers', async () => {
    const cluster = await clusters.create();
    cluster.startAll();
    await leaderNow(cluster);
    const client = createClusterClient({ coordinators: cluster.addresses, maxRetries: 4, backoffMs: 20, maxBackoffMs: 100 });
    await client.nodes.list.query();
    for (const r of cluster.replicas) await cluster.kill(r.id, 'SIGKILL');
    const started = performance.now();
    const err = await client.nodes.list.query().catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(err).toBeInstanceOf(ClusterUnavailableError);
    const e = err as ClusterUnavailableError;
    expect(e.attempts).toHaveLength(5);
    expect(e.data).toMatchObject({ code: 'UNAVAILABLE', retriesExhausted: true });
    expect(e.message).toMatch(/^nodes\.list: no coordinator could serve it after 5 attempts/);
    for (const address of cluster.addresses) expect(e.message).toContain(`${address}: connection refused`);
  });

  it('torua status --json: every replica, the members and the cluster; a killed replica is down', async () => {
    const cluster = await clusters.create();
    cluster.startAll();
    const leader = await leaderNow(cluster);
    const follower = cluster.replicas.find((r) => r.id !== leader.id);
    if (follower === undefined) throw new Error('no follower');
    await cluster.kill(follower.id, 'SIGKILL');
    const status = await cluster.torua('status', ['status', '--json', '--config', cluster.configPath], { pipeStdout: true });
    expect(status.exitCode, String(status.stdout)).toBe(0);
    // The documented --json envelope: {ok, command, data}.
    const doc = JSON.parse(String(status.stdout)) as { ok: boolean; command: string; data: unknown };
    expect(doc).toMatchObject({ ok: true, command: 'status' });
    const report = doc.data as {
      replicas: { id: string; address: string; ok: boolean; health?: { role: string; state_hash: string }; error?: string }[];
      members: { id: string }[];
      cluster: { leader: string; cluster_id: string; cluster_state: string };
    };
    expect(report.cluster).toMatchObject({ leader: leader.id, cluster_id: 'client-it' });
    expect(report.members.map((m) => m.id).sort()).toEqual(['c1', 'c2', 'c3']);
    expect(report.replicas.map((r) => r.id)).toEqual(['c1', 'c2', 'c3']);
    const down = report.replicas.find((r) => r.id === follower.id);
    expect(down).toMatchObject({ ok: false, error: 'connection refused' });
    const up = report.replicas.filter((r) => r.ok);
    expect(up).toHaveLength(2);
    expect(up.find((r) => r.id === leader.id)?.health?.role).toBe('leader');

    const table = await cluster.torua('status-table', ['status', '--coordinators', cluster.addresses.join(',')], { pipeStdout: true });
    expect(table.exitCode).toBe(0);
    expect(String(table.stdout)).toMatch(new RegExp(`^${follower.id}\\s+127\\.0\\.0\\.1:\\d+\\s+down\\s.*connection refused$`, 'm'));
    expect(String(table.stdout)).toMatch(new RegExp(`^${leader.id}\\s+127\\.0\\.0\\.1:\\d+\\s+leader\\s+\\d+`, 'm'));
  });
});
