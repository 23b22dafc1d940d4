import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { ClusterError, ClusterErrorCode } from '../../../src/errors/index.js';
import { request, startNodeServer } from './helpers.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('data node REST: the data path', () => {
  it('stores and reads back raw bytes under odd keys, the key being the rest of the path, percent-decoded as UTF-8', async () => {
    const { node, url } = await startNodeServer();
    const cases: readonly { path: string; key: string }[] = [
      { path: '/data/user@example.com', key: 'user@example.com' },
      { path: '/data/user%40example.com', key: 'user@example.com' },
      { path: '/data/path/to/x', key: 'path/to/x' },
      { path: '/data/a%20key%20with%20spaces', key: 'a key with spaces' },
      { path: '/data/%E6%95%B0%E5%AD%97', key: '数字' },
      // No URL normalization: dot segments are part of the key.
      { path: '/data/a/../b', key: 'a/../b' },
    ];
    for (const [i, { path, key }] of cases.entries()) {
      const value = Uint8Array.from([0, 255, i, 10, 13]);
      const put = await request(url, 'PUT', path, value, { 'content-type': 'application/octet-stream' });
      expect(put.status, path).toBe(204);
      expect(node.values.get(key), path).toEqual(value);
      const got = await request(url, 'GET', path);
      expect(got.status, path).toBe(200);
      expect(got.headers['content-type']).toBe('application/octet-stream');
      expect(new Uint8Array(got.bytes)).toEqual(value);
    }
    expect(new Set(node.values.keys())).toEqual(new Set(cases.map((c) => c.key)));
  });

  it('answers 404 NOT_FOUND for an absent key, and deletes with 204', async () => {
    const { node, url } = await startNodeServer();
    const missing = await request(url, 'GET', '/data/nothing');
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatchObject({ code: 'NOT_FOUND', resource: 'key', id: 'nothing' });

    node.values.set('k', bytes('v'));
    expect((await request(url, 'DELETE', '/data/k')).status).toBe(204);
    expect(node.values.has('k')).toBe(false);
    expect((await request(url, 'GET', '/data/k')).status).toBe(404);
  });

  it('passes ?epoch=N to the service, and refuses a bad epoch or any other query parameter with 400 naming it', async () => {
    const { node, url } = await startNodeServer();
    expect((await request(url, 'PUT', '/data/k?epoch=7', bytes('v'))).status).toBe(204);
    expect(node.lastArgs('put')?.[2]).toBe(7);
    await request(url, 'GET', '/data/k');
    expect(node.lastArgs('get')).toEqual(['k', undefined]);

    for (const query of ['epoch=-1', 'epoch=abc', 'epoch=1.5', 'epoch=', 'epoch=99999999999999999']) {
      const answer = await request(url, 'GET', `/data/k?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.json.error.code).toBe('INVALID_INPUT');
      expect(answer.json.error.message, query).toMatch(/^epoch: /);
    }
    const unknown = await request(url, 'GET', '/data/k?consistency=stale');
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.message).toMatch(/^consistency: unknown query parameter/);
    const twice = await request(url, 'DELETE', '/data/k?epoch=1&epoch=2');
    expect(twice.status).toBe(400);
    expect(twice.json.error.message).toMatch(/^epoch: given more than once/);
    expect(node.values.has('k')).toBe(true);
  });

  it('refuses malformed escapes, invalid UTF-8 and keys outside the key rule with 400 naming key', async () => {
    const { node, url } = await startNodeServer();
    for (const path of ['/data/%ZZ', '/data/abc%E6%95', '/data/%FF', '/data/%ED%A0%80', '/data/', '/data', `/data/${'x'.repeat(1025)}`]) {
      const answer = await request(url, 'PUT', path, bytes('v'));
      expect(answer.status, path).toBe(400);
      expect(answer.json.error.code, path).toBe('INVALID_INPUT');
      expect(answer.json.error.message, path).toMatch(/^key: /);
    }
    expect(node.calls.filter((c) => c.method === 'put')).toEqual([]);
  });

  it('refuses a declared body over the value limit with 413 before reading it', async () => {
    const { node, url } = await startNodeServer({ maxValueBytes: 1024 });
    const answer = await request(url, 'PUT', '/data/k', new Uint8Array(1025));
    expect(answer.status).toBe(413);
    expect(answer.json.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', limitBytes: 1024, sizeBytes: 1025 });
    expect(answer.headers.connection).toBe('close');
    expect((await request(url, 'PUT', '/data/k', new Uint8Array(1024))).status).toBe(204);
    expect(node.values.get('k')?.length).toBe(1024);
  });

  it('answers 413 to a streamed body as soon as it passes the limit, without waiting for (or buffering) the rest', async () => {
    const limit = 256 * 1024;
    const { node, server } = await startNodeServer({ maxValueBytes: limit });
    // The client never ends the body by itself: a server that read it all before answering would never answer
    // within the cap, and the client would stop at the cap.
    const capBytes = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 7);
    const outcome = await new Promise<{ status: number; body: any; sentBytes: number }>((resolve, reject) => {
      let sentBytes = 0;
      let answered = false;
      const req = http.request({ host: '127.0.0.1', port: server.port, method: 'PUT', path: '/data/big', agent: false }, (res) => {
        answered = true;
        const sentAtAnswer = sentBytes;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), sentBytes: sentAtAnswer });
        });
      });
      req.on('error', (err) => {
        if (!answered) reject(err);
      });
      const pump = () => {
        while (!answered && sentBytes < capBytes) {
          sentBytes += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        if (!answered) req.end();
      };
      pump();
    });
    expect(outcome.status).toBe(413);
    expect(outcome.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', limitBytes: limit });
    expect(outcome.sentBytes).toBeLessThan(capBytes);
    expect(node.calls.filter((c) => c.method === 'put')).toEqual([]);
  });

  it('answers the service’s ClusterErrors with their status, code and payload', async () => {
    const { node, url } = await startNodeServer();
    const cases = [
      { error: new ClusterError({ code: ClusterErrorCode.StaleEpoch, shard: 3, expectedEpoch: 4, currentEpoch: 5 }, 'shard 3 is at epoch 5, not 4'), status: 409, fields: { currentEpoch: 5, shard: 3 } },
      { error: new ClusterError({ code: ClusterErrorCode.NotPrimary, shard: 3, primary: 'n2', epoch: 5 }, 'n1 is not the primary of shard 3'), status: 421, fields: { primary: 'n2' } },
      { error: new ClusterError({ code: ClusterErrorCode.NoLease, node: 'n1' }, 'n1 has no valid lease'), status: 503, fields: { node: 'n1' } },
      { error: new ClusterError({ code: ClusterErrorCode.Unavailable, reason: 'recovering', shard: 3, retryAfterMs: 1_500 }, 'shard 3 is recovering'), status: 503, fields: { reason: 'recovering' } },
    ];
    for (const { error, status, fields } of cases) {
      node.failWith('get', error).failWith('put', error);
      const got = await request(url, 'GET', '/data/k?epoch=4');
      expect(got.status, error.code).toBe(status);
      expect(got.json).toEqual({ error: expect.objectContaining({ code: error.code, message: error.message, ...fields }) });
      const put = await request(url, 'PUT', '/data/k', bytes('v'), { connection: 'keep-alive' });
      expect(put.status, error.code).toBe(status);
      expect(put.headers.connection, 'a body read to its end keeps the connection').not.toBe('close');
    }
    expect((await request(url, 'GET', '/data/k')).headers['retry-after']).toBe('2');
    node.failWith('delete', new Error('disk on fire at /secret/path'));
    const internal = await request(url, 'DELETE', '/data/k');
    expect(internal.status).toBe(500);
    expect(internal.json.error.code).toBe('INTERNAL');
    expect(JSON.stringify(internal.json)).not.toContain('/secret/path');
  });
});

describe('data node REST: the views', () => {
  it('serves /health, /info and /metrics, and refuses other methods and paths', async () => {
    const { url } = await startNodeServer();
    const health = await request(url, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ status: 'ok', id: 'n1', lease: { valid: true } });
    const info = await request(url, 'GET', '/info');
    expect(info.status).toBe(200);
    expect(info.json).toMatchObject({ id: 'n1', shards: [{ id: 3, role: 'primary' }] });
    const metrics = await request(url, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);

    const post = await request(url, 'POST', '/health', '{}', { 'content-type': 'application/json' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET');
    const postData = await request(url, 'POST', '/data/k', 'v');
    expect(postData.status).toBe(405);
    expect(postData.headers.allow).toBe('GET, PUT, DELETE');
    const nowhere = await request(url, 'GET', '/nodes');
    expect(nowhere.status).toBe(404);
    expect(nowhere.json.error).toMatchObject({ code: 'NOT_FOUND', resource: 'route' });
    expect((await request(url, 'GET', '/health?verbose=1')).status).toBe(400);
  });
});
