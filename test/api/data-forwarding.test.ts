import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { shardForKey } from '../../src/coordinator/routing/index.js';
import type { Consistency, StateRead } from '../../src/coordinator/service.js';
import { DATA_BATCH_CONTENT_TYPE, DATA_BATCH_PATH, decodeDataBatchRequests, encodeDataBatchAnswers } from '../../src/data-wire/batch-frame.js';
import { FakeCoordinatorService, registerCommand } from './fake-service.js';
import { startServer } from './helpers.js';

interface Seen {
  readonly method: string;
  readonly key: string;
  readonly epoch: number;
}

/** Answers `/data/<key>?epoch=N` like a data node; `refuse` may answer instead (and change the table first). */
class FakeNode {
  readonly values = new Map<string, Buffer>();
  readonly seen: Seen[] = [];
  /** `POST /data-batch` exchanges taken. */
  batches = 0;
  refuse: ((seen: Seen) => Promise<{ status: number; code: string } | undefined>) | undefined;
  private readonly server = http.createServer((req, res) => void this.answer(req, res));
  address = '';

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.address = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    if (req.url === DATA_BATCH_PATH) {
      this.batches++;
      const answers = [];
      for (const r of decodeDataBatchRequests(body)) answers.push(await this.one(r.method, r.target, Buffer.from(r.value ?? new Uint8Array(0))));
      res.writeHead(200, { 'content-type': DATA_BATCH_CONTENT_TYPE });
      res.end(encodeDataBatchAnswers(answers.map((a) => ({ status: a.status, body: a.body }))));
      return;
    }
    const answer = await this.one(req.method ?? '', req.url ?? '', body);
    res.writeHead(answer.status, answer.type === undefined ? {} : { 'content-type': answer.type, 'content-length': answer.body.length });
    res.end(answer.body);
  }

  /** One `/data/<key>?epoch=N` request, alone or in a batch. */
  private async one(method: string, url: string, body: Buffer): Promise<{ status: number; body: Buffer; type?: string }> {
    const at = url.indexOf('?');
    const key = decodeURIComponent(url.slice('/data/'.length, at));
    const epoch = Number(new URLSearchParams(url.slice(at + 1)).get('epoch'));
    const seen = { method, key, epoch };
    this.seen.push(seen);
    const refused = await this.refuse?.(seen);
    const json = (status: number, code: string) => ({ status, type: 'application/json', body: Buffer.from(JSON.stringify({ error: { code, message: `${code} from the fake node` } })) });
    if (refused) return json(refused.status, refused.code);
    if (method === 'PUT') {
      this.values.set(key, body);
      return { status: 204, body: Buffer.alloc(0) };
    }
    if (method === 'DELETE') {
      this.values.delete(key);
      return { status: 204, body: Buffer.alloc(0) };
    }
    const value = this.values.get(key);
    if (value === undefined) return json(404, 'NOT_FOUND');
    return { status: 200, type: 'application/octet-stream', body: value };
  }
}

interface Answer {
  readonly status: number;
  readonly body: Buffer;
  readonly json: any;
}

function send(base: string, method: string, path: string, body?: Buffer | AsyncIterable<Buffer>, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // The path goes out as written: a URL string would have its dot segments resolved by the client.
    const req = http.request(base, { method, headers, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const all = Buffer.concat(chunks);
        let json: unknown;
        try {
          json = JSON.parse(all.toString('utf8'));
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body: all, json });
      });
    });
    req.on('error', reject);
    if (body === undefined || Buffer.isBuffer(body)) req.end(body);
    else
      void (async () => {
        for await (const c of body) if (!req.write(c)) await new Promise((r) => req.once('drain', r));
        req.end();
      })().catch(() => undefined);
  });
}

const nodes: FakeNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.close()));
});

/** Every shard on node a (primary) and b (replica, in sync). */
async function setup(shards = 4) {
  const a = await new FakeNode().start();
  const b = await new FakeNode().start();
  nodes.push(a, b);
  const service = new FakeCoordinatorService({ shards });
  await service.propose({ ...registerCommand('a'), address: a.address });
  await service.propose({ ...registerCommand('b'), address: b.address });
  for (let id = 0; id < shards; id++) {
    await service.propose({ type: 'assignShard', atMs: 0, reason: 'test', shardId: id, expectedEpoch: 0, primary: 'a', replicas: ['b'] });
  }
  const server = await startServer(service);
  return { service, a, b, req: (method: string, path: string, body?: Buffer | AsyncIterable<Buffer>, headers?: Record<string, string>) => send(server.url, method, path, body, headers) };
}

const path = (key: string) => `/data/${encodeURIComponent(key)}`;

describe('/data/<key> on a coordinator', () => {
  it('forwards PUT, GET and DELETE to the primary with the shard epoch, and answers as it did', async () => {
    const { a, b, req } = await setup();
    const value = Buffer.from([0, 1, 2, 255, 10, 13]);
    expect((await req('PUT', '/data/k1', value)).status).toBe(204);
    expect(a.values.get('k1')).toEqual(value);
    const got = await req('GET', '/data/k1');
    expect(got.status).toBe(200);
    expect(got.body).toEqual(value);
    expect((await req('DELETE', '/data/k1')).status).toBe(204);
    const missing = await req('GET', '/data/k1');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('NOT_FOUND');
    expect(a.seen.map((s) => [s.method, s.key, s.epoch])).toEqual([
      ['PUT', 'k1', 1],
      ['GET', 'k1', 1],
      ['DELETE', 'k1', 1],
      ['GET', 'k1', 1],
    ]);
    expect(b.seen).toEqual([]);
  });

  it('sends the requests that arrive together for one node as one batch, each answered as it would be alone', async () => {
    const { a, b, req } = await setup();
    const keys = Array.from({ length: 40 }, (_, i) => `together-${i}`);
    const puts = await Promise.all(keys.map((k) => req('PUT', path(k), Buffer.from(`v-${k}`))));
    expect(puts.map((p) => p.status)).toEqual(keys.map(() => 204));
    const gets = await Promise.all([...keys, 'never-written'].map((k) => req('GET', path(k))));
    expect(gets.slice(0, -1).map((g) => g.body.toString())).toEqual(keys.map((k) => `v-${k}`));
    expect(gets.at(-1)?.status).toBe(404);
    expect(gets.at(-1)?.json.error.code).toBe('NOT_FOUND');
    expect(a.batches).toBeGreaterThanOrEqual(1);
    expect(a.seen).toHaveLength(81);
    expect(b.seen).toEqual([]);
  });

  it('keeps odd keys whole on the way to the node and back', async () => {
    const { a, req } = await setup();
    for (const key of ['user@example.com', 'path/to/x', '数字', 'a key with spaces', 'a/../b', 'trailing/', '..', '.', '../x', 'x/..']) {
      const value = Buffer.from(`value of ${key}`);
      expect((await req('PUT', path(key), value)).status, key).toBe(204);
      expect(a.values.get(key), key).toEqual(value);
      expect((await req('GET', path(key))).body.toString(), key).toBe(`value of ${key}`);
    }
    // Unencoded slashes are part of the key too.
    expect((await req('GET', '/data/path/to/x')).body.toString()).toBe('value of path/to/x');
    // Dot segments, plain or percent-encoded, are key bytes, never resolved away.
    expect((await req('GET', '/data/%2E%2E')).body.toString()).toBe('value of ..');
    expect((await req('GET', '/data/../x')).body.toString()).toBe('value of ../x');
    expect((await req('GET', '/data/x/%2e%2e')).body.toString()).toBe('value of x/..');
  });

  it('retries on a fresh table when the node answers STALE_EPOCH, with the new epoch', async () => {
    const { service, a, req } = await setup();
    const shard = shardForKey('moved', 4);
    a.refuse = async (seen) => {
      if (seen.epoch !== 1) return undefined;
      // The shard moved on while the request was on its way: a replica left the in-sync set.
      await service.propose({ type: 'setInSync', atMs: 0, reason: 'test', shardId: shard, expectedEpoch: 1, nodeId: 'b', inSync: false });
      return { status: 409, code: 'STALE_EPOCH' };
    };
    expect((await req('PUT', '/data/moved', Buffer.from('v'))).status).toBe(204);
    expect(a.seen.map((s) => s.epoch)).toEqual([1, 2]);
    expect(a.values.get('moved')?.toString()).toBe('v');
  });

  it('goes to the new primary when the old one answers NOT_PRIMARY', async () => {
    const { service, a, b, req } = await setup();
    const shard = shardForKey('k', 4);
    a.refuse = async () => {
      await service.propose({ type: 'promotePrimary', atMs: 0, reason: 'test', shardId: shard, expectedEpoch: 1, nodeId: 'b' });
      return { status: 421, code: 'NOT_PRIMARY' };
    };
    b.values.set('k', Buffer.from('from b'));
    const got = await req('GET', '/data/k');
    expect(got.status).toBe(200);
    expect(got.body.toString()).toBe('from b');
    expect(b.seen).toEqual([{ method: 'GET', key: 'k', epoch: 2 }]);
  });

  it('retries a primary that cannot be reached on a fresh table, at most three times, then answers 503', async () => {
    const { service, a, b, req } = await setup();
    await a.close();
    const reads: Consistency[] = [];
    const read = service.read.bind(service);
    service.read = (c: Consistency): Promise<StateRead> => (reads.push(c), read(c));
    const failed = await req('GET', '/data/k');
    expect(failed.status).toBe(503);
    expect(failed.json.error).toMatchObject({ code: 'UNAVAILABLE' });
    expect(reads.filter((c) => c === 'linearizable')).toHaveLength(2);
    // Once the table names a reachable primary, the retry finds it.
    service.read = async (c: Consistency) => {
      if (c === 'linearizable' && service.state.shards[shardForKey('k', 4)]!.primary === 'a') {
        await service.propose({ type: 'promotePrimary', atMs: 0, reason: 'test', shardId: shardForKey('k', 4), expectedEpoch: 1, nodeId: 'b' });
      }
      return read(c);
    };
    b.values.set('k', Buffer.from('b'));
    expect((await req('GET', '/data/k')).status).toBe(200);
  });

  it('passes the node’s other errors through with their status and code, without retrying', async () => {
    const { a, req } = await setup();
    a.refuse = async () => ({ status: 503, code: 'NO_LEASE' });
    const answer = await req('PUT', '/data/k', Buffer.from('v'));
    expect(answer.status).toBe(503);
    expect(answer.json.error.code).toBe('NO_LEASE');
    expect(a.seen).toHaveLength(1);
  });

  it('answers 503 naming the shard when it has no primary', async () => {
    const a = await new FakeNode().start();
    nodes.push(a);
    const service = new FakeCoordinatorService({ shards: 2 });
    const server = await startServer(service);
    const answer = await send(server.url, 'GET', '/data/k');
    expect(answer.status).toBe(503);
    expect(answer.json.error).toMatchObject({ code: 'UNAVAILABLE', shard: shardForKey('k', 2), message: `shard ${shardForKey('k', 2)} has no primary` });
  });

  it('refuses a value over maxValueBytes with 413 before the node sees it, declared or streamed', async () => {
    const { service, a, req } = await setup();
    expect(await service.propose({ type: 'updateSettings', atMs: 0, reason: 'test', expectedVersion: 1, settings: { maxValueBytes: 1024 } })).toMatchObject({ ok: true });
    const declared = await req('PUT', '/data/big', Buffer.alloc(1025));
    expect(declared.status).toBe(413);
    expect(declared.json.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', limitBytes: 1024 });
    // Chunked, without a length, and far larger than the limit: refused once the limit is passed.
    async function* endless(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 1_000; i++) yield Buffer.alloc(64 * 1024);
    }
    const streamed = await req('PUT', '/data/big', endless());
    expect(streamed.status).toBe(413);
    expect(a.seen).toEqual([]);
    expect((await req('PUT', '/data/small', Buffer.alloc(1024))).status).toBe(204);
  });

  it('answers 503 once, not retried, for a stored value over a limit lowered since', async () => {
    const { service, a, req } = await setup();
    a.values.set('old', Buffer.alloc(2048, 1));
    expect(await service.propose({ type: 'updateSettings', atMs: 0, reason: 'test', expectedVersion: 1, settings: { maxValueBytes: 1024 } })).toMatchObject({ ok: true });
    const answer = await req('GET', '/data/old');
    expect(answer.status).toBe(503);
    expect(answer.json.error).toMatchObject({ code: 'UNAVAILABLE', reason: 'value over the current limit' });
    expect(answer.json.error.message).toMatch(/limit of 1024 bytes/);
    expect(a.seen).toHaveLength(1);
  });

  it('refuses bad keys, query parameters and methods with 400 / 405 naming what is wrong', async () => {
    const { a, req } = await setup();
    const badEscape = await req('GET', '/data/%E0%A4%A');
    expect(badEscape.status).toBe(400);
    expect(badEscape.json.error.message).toMatch(/^key: /);
    expect((await req('GET', '/data/%FF')).json.error.message).toMatch(/^key: /);
    expect((await req('GET', '/data/')).json.error.message).toMatch(/^key: .*empty/);
    expect((await req('GET', `/data/${'x'.repeat(1025)}`)).json.error.message).toMatch(/^key: expected at most 1024 bytes/);
    const stale = await req('GET', '/data/k?stale=true');
    expect(stale.status).toBe(400);
    expect(stale.json.error.message).toMatch(/^stale: unknown query parameter/);
    const post = await req('POST', '/data/k', Buffer.from('v'));
    expect(post.status).toBe(405);
    expect(a.seen).toEqual([]);
  });
});
