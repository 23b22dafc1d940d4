import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { FORWARDED_BY_HEADER } from '../../src/api/coordinator/index.js';
import { createMetrics } from '../../src/observability/index.js';
import { FakeCoordinatorService, registerCommand } from './fake-service.js';
import { startServer } from './helpers.js';

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: kept as text */
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

async function serve(service = new FakeCoordinatorService({ shards: 4 }), options = {}) {
  const server = await startServer(service, options);
  return { service, server, req: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => call(server.url, method, path, body, headers) };
}

describe('REST happy paths', () => {
  it('GET /health answers the replica’s own view', async () => {
    const { req } = await serve();
    const { status, body } = await req('GET', '/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', id: 'c1', role: 'leader', leader: 'c1', term: 1, commit_index: 0, applied_index: 0, state_hash: 'hash-0' });
  });

  it('registers nodes, sets labels, lists and shows them', async () => {
    const { req } = await serve();
    const registered = await req('POST', '/register', { id: 'n1', address: '127.0.0.1:8081', capacity: 4, version: '0.1.0', labels: { zone: 'a' } });
    expect(registered.status).toBe(200);
    expect(registered.body).toMatchObject({ id: 'n1', address: '127.0.0.1:8081', status: 'unknown', shard_count: 0, available_capacity: 4, version: '0.1.0' });
    const labelled = await req('PUT', '/nodes/n1/labels', { labels: { zone: 'b', rack: 'r2' } });
    expect(labelled).toMatchObject({ status: 200, body: { labels: { zone: 'b', rack: 'r2' } } });
    const nodes = await req('GET', '/nodes');
    expect(nodes.status).toBe(200);
    expect(nodes.body.nodes).toEqual([
      expect.objectContaining({ id: 'n1', address: '127.0.0.1:8081', status: 'unknown', shard_count: 0, last_heartbeat: null, uptime: expect.any(String), available_capacity: 4, version: '0.1.0' }),
    ]);
    const info = await req('GET', '/nodes/n1/info');
    expect(info).toMatchObject({ status: 200, body: { id: 'n1', shards: [] } });
  });

  it('assigns shards and lists them, and reports cluster info', async () => {
    const { req } = await serve();
    await req('POST', '/register', { id: 'n1', address: '127.0.0.1:8081' });
    await req('POST', '/register', { id: 'n2', address: '127.0.0.1:8082' });
    const assigned = await req('POST', '/shards/2/assign', { primary: 'n1', replicas: ['n2'], expectedEpoch: 0 });
    expect(assigned).toMatchObject({ status: 200, body: { id: 2, primary: 'n1', replicas: ['n2'], in_sync: ['n1', 'n2'], epoch: 1, state: 'active' } });
    const shards = await req('GET', '/shards');
    expect(shards.body.shards[2]).toEqual({ id: 2, primary: 'n1', replicas: ['n2'], in_sync: ['n1', 'n2'], epoch: 1, state: 'active', recovery: null, load: null });
    expect(shards.body.shards).toHaveLength(4);
    const info = await req('GET', '/cluster/info');
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({
      cluster_id: 'torua-test',
      coordinator_version: '0.1.0-test',
      leader: 'c1',
      term: 1,
      commit_index: 3,
      total_nodes: 2,
      healthy_nodes: 0,
      total_shards: 4,
      assigned_shards: 1,
      cluster_state: 'red',
      consistency: 'linearizable',
    });
    expect(typeof info.body.uptime).toBe('string');
    expect((await req('GET', '/nodes/n1/info')).body.shards).toEqual([{ shard: 2, role: 'primary', in_sync: true, epoch: 1 }]);
  });

  it('reads and changes the cluster config', async () => {
    const { req } = await serve();
    const before = await req('GET', '/cluster/config');
    expect(before).toMatchObject({ status: 200, body: { version: 1 } });
    const after = await req('PUT', '/cluster/config', { expectedVersion: 1, settings: { minHealthyFraction: 0.6 } });
    expect(after).toMatchObject({ status: 200, body: { version: 2, settings: { minHealthyFraction: 0.6 } } });
    const stale = await req('PUT', '/cluster/config', { expectedVersion: 1, settings: { minHealthyFraction: 0.7 } });
    expect(stale).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT', reason: 'STALE_VERSION' } } });
  });

  it('lists, adds and removes members and transfers leadership', async () => {
    const { req, service } = await serve();
    const added = await req('POST', '/cluster/members', { id: 'c4', host: '127.0.0.14', apiPort: 7004, peerPort: 7104 });
    expect(added).toMatchObject({ status: 200, body: { member: { id: 'c4', host: '127.0.0.14', api_port: 7004, peer_port: 7104 } } });
    const members = await req('GET', '/cluster/members');
    expect(members.status).toBe(200);
    expect(members.body.members.map((m: { id: string }) => m.id)).toEqual(['c1', 'c4']);
    expect(members.body.members[0]).toEqual(
      expect.objectContaining({ id: 'c1', role: 'leader', term: 1, commit_index: 2, applied_index: 2, match_index: null, last_contact: '0ms', state_hash: 'hash-2' }),
    );
    expect(await req('DELETE', '/cluster/members/c4')).toMatchObject({ status: 200, body: { removed: 'c4' } });
    expect(await req('POST', '/cluster/leader/transfer', { to: 'c2' })).toMatchObject({ status: 200, body: { leader: 'c2' } });
    expect(service.leader).toBe('c2');
  });

  it('pages events with ?since', async () => {
    const { req, service } = await serve();
    for (const id of ['n1', 'n2', 'n3']) await service.propose(registerCommand(id));
    const all = await req('GET', '/events');
    expect(all.status).toBe(200);
    expect(all.body.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3]);
    expect(all.body.events[0]).toMatchObject({ seq: 1, index: 1, term: 1, kind: 'node-registered', reason: 'test' });
    expect((await req('GET', '/events?since=2')).body.events.map((e: { seq: number }) => e.seq)).toEqual([3]);
  });

  it('serves the injected metrics text and records requests by route pattern', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const { req } = await serve(undefined, { metrics });
    await req('GET', '/nodes/n9/info');
    await req('GET', '/nowhere');
    const res = await fetch(`${(await serve(undefined, { metricsText: async () => 'torua_up 1\n' })).server.url}/metrics`);
    expect(await res.text()).toBe('torua_up 1\n');
    const text = await (await req('GET', '/metrics')).body;
    expect(text).toContain('torua_http_request_duration_seconds_count{route="/nodes/:id/info",method="GET",status="404"} 1');
    expect(text).toContain('torua_http_request_duration_seconds_count{route=":unmatched",method="GET",status="404"} 1');
    expect(text).toContain('torua_http_errors_total{code="NOT_FOUND"} 2');
  });
});

describe('REST stale and linearizable reads', () => {
  it('?stale=true answers from the local table and says how stale; the default refuses without a quorum', async () => {
    const service = new FakeCoordinatorService().followerOf('c2', '127.0.0.12:7002');
    service.noQuorum = true;
    const { req } = await serve(service);
    for (const path of ['/cluster/info', '/nodes', '/shards', '/events', '/cluster/config']) {
      const linearizable = await req('GET', path);
      expect(linearizable.status, path).toBe(503);
      expect(linearizable.body.error.code, path).toBe('NO_QUORUM');
      const stale = await req('GET', `${path}?stale=true`);
      expect(stale.status, path).toBe(200);
      expect(stale.body, path).toMatchObject({ consistency: 'stale', staleness_ms: 250 });
    }
    expect((await req('GET', '/cluster/info?stale=true')).body).toMatchObject({ leader: 'c2', leader_address: '127.0.0.12:7002' });
    expect((await req('GET', '/nodes?stale=false')).status).toBe(503);
  });
});

describe('REST errors', () => {
  it('400 names the field: wrong type, unknown key, missing field, bad JSON, a bad query', async () => {
    const { req } = await serve();
    const wrongType = await req('POST', '/register', { id: 'n1', address: '127.0.0.1:8081', capacity: 'many' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error).toMatchObject({ code: 'INVALID_INPUT' });
    expect(wrongType.body.error.message).toMatch(/^capacity: /);
    expect(wrongType.body.error.message).toContain('got "many"');
    const unknownKey = await req('POST', '/cluster/members', { id: 'c4', host: '127.0.0.14', apiPort: 7004, peerPort: 7104, role: 'voter' });
    expect(unknownKey.status).toBe(400);
    expect(unknownKey.body.error.message).toMatch(/^role: unknown key/);
    const missing = await req('POST', '/cluster/leader/transfer', {});
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/^to: .*missing/);
    const noBody = await req('POST', '/register');
    expect(noBody.status).toBe(400);
    expect(noBody.body.error.issues).toEqual([expect.stringMatching(/^id: .*missing/), expect.stringMatching(/^address: .*missing/)]);
    const badJson = await req('POST', '/register', '{"id": "n1",');
    expect(badJson.status).toBe(400);
    expect(badJson.body.error.message).toMatch(/^body: not valid JSON at line 1, column 13: expected a property name/);
    const notObject = await req('PUT', '/nodes/n1/labels', [1, 2]);
    expect(notObject.status).toBe(400);
    expect(notObject.body.error.message).toBe('body: expected a JSON object, got an array of 2');
    const idTwice = await req('PUT', '/nodes/n1/labels', { id: 'n2', labels: {} });
    expect(idTwice.body.error.message).toMatch(/^id: given in the path/);
    const shardId = await req('POST', '/shards/x/assign', { primary: 'n1', replicas: [], expectedEpoch: 0 });
    expect(shardId.status).toBe(400);
    expect(shardId.body.error.message).toMatch(/^id: expected an integer from 0 to 65535, got "x"/);
    const since = await req('GET', '/events?since=-1');
    expect(since.status).toBe(400);
    expect(since.body.error.message).toMatch(/^since: /);
    expect((await req('GET', '/nodes?stale=maybe')).body.error.message).toBe('stale: expected true or false, got "maybe"');
    expect((await req('GET', '/nodes?limit=3')).body.error.message).toBe('limit: unknown query parameter (the parameters here are stale)');
    expect((await req('GET', '/nodes/%E0%A4%A/info')).status).toBe(400);
  });

  it('404 for unknown routes and ids, 405 with Allow for a wrong method', async () => {
    const { req } = await serve();
    const route = await req('GET', '/no/such/route');
    expect(route).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND', resource: 'route' } } });
    const node = await req('GET', '/nodes/n9/info');
    expect(node).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND', resource: 'node', id: 'n9', message: 'no node n9' } } });
    const labels = await req('PUT', '/nodes/n9/labels', { labels: {} });
    expect(labels).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND', resource: 'node' } } });
    const wrong = await req('DELETE', '/nodes');
    expect(wrong).toMatchObject({ status: 405, body: { error: { code: 'METHOD_NOT_ALLOWED', allowed: ['GET'] } } });
    expect(wrong.headers.get('allow')).toBe('GET');
    expect((await req('GET', '/cluster/members/c1')).headers.get('allow')).toBe('DELETE');
  });

  it('409 STALE_EPOCH with the current epoch', async () => {
    const { req } = await serve();
    await req('POST', '/register', { id: 'n1', address: '127.0.0.1:8081' });
    await req('POST', '/shards/0/assign', { primary: 'n1', replicas: [], expectedEpoch: 0 });
    const stale = await req('POST', '/shards/0/assign', { primary: 'n1', replicas: [], expectedEpoch: 0 });
    expect(stale).toMatchObject({ status: 409, body: { error: { code: 'STALE_EPOCH', shard: 0, expectedEpoch: 0, currentEpoch: 1 } } });
  });

  it('413 for a body over 1 MiB, declared or chunked', async () => {
    const { server } = await serve();
    const big = JSON.stringify({ id: 'n1', address: '127.0.0.1:8081', labels: { a: 'x'.repeat(1024 * 1024) } });
    const declared = await call(server.url, 'POST', '/register', big);
    expect(declared).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', limitBytes: 1024 * 1024 } } });
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const r = http.request(`${server.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      r.on('error', reject);
      for (let i = 0; i < 17; i++) r.write('x'.repeat(64 * 1024));
      r.end();
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('415 for a body that is not JSON', async () => {
    const { req } = await serve();
    const text = await req('POST', '/register', 'id=n1', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(text).toMatchObject({ status: 415, body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE' } } });
    expect(text.body.error.message).toContain('application/json');
    const vendor = await req('POST', '/register', { id: 'n1', address: '127.0.0.1:8081' }, { 'content-type': 'application/vnd.torua+json; charset=utf-8' });
    expect(vendor.status).toBe(200);
  });

  it('421 NOT_LEADER with the leader’s address for a call that was already forwarded, or when forwarding is off', async () => {
    const service = new FakeCoordinatorService().followerOf('c2', '127.0.0.12:7002');
    const { req } = await serve(service);
    const hop = await req('POST', '/cluster/members', { id: 'c4', host: '127.0.0.14', apiPort: 7004, peerPort: 7104 }, { [FORWARDED_BY_HEADER]: 'c3' });
    expect(hop).toMatchObject({ status: 421, body: { error: { code: 'NOT_LEADER', leader: 'c2', leaderAddress: '127.0.0.12:7002' } } });
    const off = await serve(new FakeCoordinatorService().followerOf('c2', '127.0.0.12:7002'), { forwardToLeader: false });
    const refused = await off.req('DELETE', '/cluster/members/c3');
    expect(refused).toMatchObject({ status: 421, body: { error: { code: 'NOT_LEADER', leader: 'c2', leaderAddress: '127.0.0.12:7002' } } });
  });

  it('503 NO_LEADER and NO_QUORUM, 504 TIMEOUT', async () => {
    const service = new FakeCoordinatorService().leaderless();
    const { req } = await serve(service);
    const noLeader = await req('POST', '/cluster/leader/transfer', { to: 'c2' });
    expect(noLeader).toMatchObject({ status: 503, body: { error: { code: 'NO_LEADER' } } });
    service.noQuorum = true;
    expect(await req('POST', '/register', { id: 'n1', address: '127.0.0.1:8081' })).toMatchObject({ status: 503, body: { error: { code: 'NO_QUORUM' } } });
    service.noQuorum = false;
    service.timesOut = true;
    expect(await req('PUT', '/nodes/n1/labels', { labels: {} })).toMatchObject({ status: 504, body: { error: { code: 'TIMEOUT', operation: 'setNodeLabels' } } });
  });

  it('never crashes on a malformed request', async () => {
    const { server, req } = await serve();
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.port, '127.0.0.1', () => socket.write('BLAH / HTTP/1.1\r\n\r\n'));
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1.1 400/);
    expect((await req('GET', '/health')).status).toBe(200);
  });
});
