/**
 * A cluster with `auth`, as real processes: tokens and the internal token
 * made with the CLI, a token file others can read refused at start, the
 * nodes registering and renewing leases with the internal token (a write
 * through /data succeeds, which needs the primary's lease), 401 without a
 * token and 403 for too small a role (nothing changed), a follower
 * forwarding a leader-only call with the caller's own token, a data node's
 * own /data checking tokens (and the smart client sending its own), the
 * CLI's --token and TORUA_TOKEN, and the events naming who asked.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectBuilt, useTestClusters, waitFor } from '../support/coordinator-processes.js';

const clusters = useTestClusters();
beforeAll(expectBuilt);

interface Answer {
  readonly status: number;
  readonly body: any;
}

async function call(address: string, method: string, urlPath: string, token?: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  const res = await fetch(`http://${address}${urlPath}`, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* a value, not JSON */
  }
  return { status: res.status, body: parsed };
}

describe('a cluster with auth', () => {
  it('checks every caller, and its own processes still reach each other', async () => {
    const cluster = await clusters.create({ replicas: 3, nodes: 2 });
    const made = async (name: string, role: string) => {
      const r = await cluster.torua(`token-${name}`, ['token', 'create', '--name', name, '--role', role], { pipeStdout: true });
      expect(r.exitCode).toBe(0);
      return JSON.parse(String(r.stdout)) as { name: string; role: string; token: string; hash: string };
    };
    const internal = await cluster.torua('token-internal', ['token', 'internal', '--out', path.join(cluster.dir, 'internal.token')], { pipeStdout: true });
    expect(internal.exitCode).toBe(0);
    expect(fs.statSync(path.join(cluster.dir, 'internal.token')).mode & 0o777).toBe(0o600);
    const [reader, writer, operator, admin] = [await made('viewer', 'reader'), await made('app', 'writer'), await made('ops', 'operator'), await made('root', 'admin')];
    const file = JSON.parse(fs.readFileSync(cluster.configPath, 'utf8')) as Record<string, unknown>;
    // Two copies of each shard: writes replicate node to node, new copies recover from their primary.
    file['replicationFactor'] = 2;
    file['auth'] = { tokens: [reader, writer, operator, admin].map(({ name, role, hash }) => ({ name, role, hash })), internalTokenFile: 'internal.token' };
    fs.writeFileSync(cluster.configPath, JSON.stringify(file, null, 2));

    // A token file others can read is refused before anything starts.
    fs.chmodSync(path.join(cluster.dir, 'internal.token'), 0o644);
    const refused = await cluster.torua('c1-refused', ['coordinator', '--config', cluster.configPath, '--id', 'c1']);
    expect(refused.exitCode).toBe(2);
    expect(fs.readFileSync(path.join(cluster.dir, 'c1-refused.log.err'), 'utf8')).toMatch(/readable by others/);
    fs.chmodSync(path.join(cluster.dir, 'internal.token'), 0o600);

    cluster.startAll();
    for (const id of ['n1', 'n2']) cluster.startNode(id);
    const [c1] = cluster.addresses as [string];

    // Registration and leases go through with the internal token: a write needs the primary's lease.
    await waitFor('both nodes registered', async () => {
      const a = await call(c1, 'GET', '/nodes?stale=true', reader.token).catch(() => undefined);
      return a?.status === 200 && a.body.nodes.length === 2 ? true : undefined;
    }, 45_000);
    await waitFor('a write through /data', async () => (((await call(c1, 'PUT', '/data/greeting', writer.token, 'hello').catch(() => undefined))?.status ?? 500) < 300 ? true : undefined), 45_000);
    expect((await call(c1, 'GET', '/data/greeting', reader.token)).body).toBe('hello');
    // Both copies in sync: replication and recovery between the nodes went through with the internal token.
    await waitFor('every shard with two in-sync copies', async () => {
      const a = await call(c1, 'GET', '/shards?stale=true', reader.token);
      return a.status === 200 && a.body.shards.every((s: { in_sync: string[] }) => s.in_sync.length === 2) ? true : undefined;
    }, 45_000);
    // A node's own replication and recovery calls refuse anyone without the internal token.
    const nodeAddress = ((await call(c1, 'GET', '/nodes', reader.token)).body.nodes as { id: string; address: string }[]).find((n) => n.id === 'n1')!.address;
    expect(await call(nodeAddress, 'POST', '/trpc/recovery.begin', admin.token, { shard: 0, epoch: 1, replica: 'n2' })).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
    // A node's own data path takes the cluster's tokens: none is 401, a reader may not write; /health stays open.
    for (const n of (await call(c1, 'GET', '/nodes', reader.token)).body.nodes as { address: string }[]) {
      expect(await call(n.address, 'GET', '/data/greeting')).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
      expect(await call(n.address, 'PUT', '/data/greeting', reader.token, 'overwritten')).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN', required: 'writer' } } });
      expect(await call(n.address, 'GET', '/metrics')).toMatchObject({ status: 401 });
      expect((await call(n.address, 'GET', '/health')).status).toBe(200);
    }
    // The smart client (the CLI's kv) sends its token to the primary: a reader reads, only a writer writes.
    const kv = (name: string, token: string, ...args: string[]) => cluster.torua(name, ['kv', ...args, '--config', cluster.configPath, '--json', '--token', token], { pipeStdout: true });
    const readerPut = await kv('kv-reader-put', reader.token, 'put', 'greeting', 'overwritten');
    expect(readerPut.exitCode).toBe(1);
    expect(JSON.parse(String(readerPut.stdout)).error.code).toBe('FORBIDDEN');
    expect((await kv('kv-writer-put', writer.token, 'put', 'smart', 'direct')).exitCode).toBe(0);
    const smartGet = await kv('kv-reader-get', reader.token, 'get', 'smart');
    expect(JSON.parse(String(smartGet.stdout)).data.value).toBe('direct');
    expect((await call(c1, 'GET', '/data/greeting', reader.token)).body).toBe('hello');

    // 401 without a token, 403 for too small a role; nothing changed.
    const before = await call(c1, 'GET', '/nodes', reader.token);
    expect(await call(c1, 'GET', '/nodes')).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
    expect(await call(c1, 'PUT', '/data/greeting', reader.token, 'overwritten')).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(await call(c1, 'POST', '/nodes/n1/drain', reader.token, {})).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN', required: 'operator' } } });
    expect(await call(c1, 'POST', '/register', operator.token, { id: 'n1', address: '127.0.0.1:9' })).toMatchObject({ status: 403 });
    expect((await call(c1, 'GET', '/data/greeting', reader.token)).body).toBe('hello');
    const after = await call(c1, 'GET', '/nodes', reader.token);
    expect(after.body.nodes.map((n: { id: string; status: string; address: string }) => [n.id, n.status, n.address])).toEqual(
      before.body.nodes.map((n: { id: string; status: string; address: string }) => [n.id, n.status, n.address]),
    );

    // A follower forwards a leader-only call with the caller's own token: an operator is refused, an admin is not.
    const info = await call(c1, 'GET', '/cluster/info', reader.token);
    const leader = info.body.leader as string;
    const follower = cluster.replicas.find((r) => r.id !== leader)!;
    expect((await call(follower.address, 'POST', '/cluster/leader/transfer', operator.token, { to: follower.id })).status).toBe(403);
    expect(await call(follower.address, 'POST', '/cluster/leader/transfer', admin.token, { to: follower.id })).toMatchObject({ status: 200, body: { leader: follower.id } });

    // The CLI: no token is refused; --token and TORUA_TOKEN work.
    const anonymous = await cluster.torua('nodes-anon', ['nodes', '--config', cluster.configPath, '--json'], { pipeStdout: true });
    expect(anonymous.exitCode).toBe(1);
    expect(JSON.parse(String(anonymous.stdout)).error.code).toBe('UNAUTHENTICATED');
    const flagged = await cluster.torua('nodes-flag', ['nodes', '--config', cluster.configPath, '--json', '--token', reader.token], { pipeStdout: true });
    expect(flagged.exitCode).toBe(0);
    process.env['TORUA_TOKEN'] = operator.token;
    try {
      const drained = await cluster.torua('drain-env', ['node', 'drain', 'n2', '--config', cluster.configPath, '--json'], { pipeStdout: true });
      expect(drained.exitCode, String(drained.stdout)).toBe(0);
    } finally {
      delete process.env['TORUA_TOKEN'];
    }

    // Every change names who asked.
    const events = (await call(c1, 'GET', '/events', reader.token)).body.events as { kind: string; node: string | null; by: string | null }[];
    expect(events.filter((e) => e.kind === 'node-registered').map((e) => e.by)).toEqual(['internal', 'internal']);
    // The drain (the health monitor's own status changes name nobody).
    expect(events.filter((e) => e.kind === 'node-status' && e.node === 'n2' && e.by !== null).map((e) => e.by)).toEqual(['ops']);
  });
});
