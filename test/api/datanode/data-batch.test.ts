// POST /data-batch over real HTTP: each request of a batch answered as it would be alone,
// a refusal of one touching no other, and the frame, method and credentials refused as a whole.
import { describe, expect, it } from 'vitest';
import { Authenticator } from '../../../src/api/auth/index.js';
import { DATA_BATCH_CONTENT_TYPE, DATA_BATCH_PATH, decodeDataBatchAnswers, encodeDataBatchRequests, type DataBatchRequest } from '../../../src/data-wire/batch-frame.js';
import { createToken } from '../../../src/config/index.js';
import { ClusterError, ClusterErrorCode } from '../../../src/errors/index.js';
import { request, startNodeServer } from './helpers.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

async function batch(url: string, requests: DataBatchRequest[], headers: Record<string, string> = {}) {
  const answer = await request(url, 'POST', DATA_BATCH_PATH, encodeDataBatchRequests(requests), { 'content-type': DATA_BATCH_CONTENT_TYPE, ...headers });
  return { answer, parts: answer.status === 200 ? decodeDataBatchAnswers(answer.bytes, requests.length) : [] };
}

describe('POST /data-batch', () => {
  it('answers each request as it would be answered alone, in order', async () => {
    const { node, url } = await startNodeServer();
    node.values.set('a', utf8('A'));
    const { answer, parts } = await batch(url, [
      { method: 'GET', target: '/data/a?epoch=3' },
      { method: 'PUT', target: '/data/b%2Fc', value: utf8('BC') },
      { method: 'GET', target: '/data/missing' },
      { method: 'DELETE', target: '/data/a?epoch=4' },
      { method: 'GET', target: '/data/..' },
    ]);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe(DATA_BATCH_CONTENT_TYPE);
    expect(parts.map((p) => p.status)).toEqual([200, 204, 404, 204, 404]);
    expect(text(parts[0]!.body)).toBe('A');
    expect(JSON.parse(text(parts[2]!.body))).toMatchObject({ error: { code: 'NOT_FOUND', resource: 'key', id: 'missing' } });
    expect(node.calls.map((c) => [c.method, c.args[0], c.method === 'put' ? c.args[2] : c.args[1]])).toEqual([
      ['get', 'a', 3],
      ['put', 'b/c', undefined],
      ['get', 'missing', undefined],
      ['delete', 'a', 4],
      ['get', '..', undefined],
    ]);
    expect(text(node.values.get('b/c')!)).toBe('BC');
    // The same answers alone.
    expect((await request(url, 'GET', '/data/missing')).status).toBe(404);
  });

  it('refuses one bad request and carries out the others', async () => {
    const { node, url } = await startNodeServer({ maxValueBytes: 4 });
    node.failWith('get', new ClusterError({ code: ClusterErrorCode.NoLease, node: 'n1' }, 'no lease'));
    const { answer, parts } = await batch(url, [
      { method: 'PUT', target: '/data/ok', value: utf8('1234') },
      { method: 'PUT', target: '/data/big', value: utf8('12345') },
      { method: 'PUT', target: '/data/e?epoch=x', value: utf8('1') },
      { method: 'DELETE', target: '/data/?epoch=1' },
      { method: 'PUT', target: '/info', value: utf8('1') },
      { method: 'GET', target: '/data/k?other=1' },
      { method: 'GET', target: '/data/k' },
    ]);
    expect(answer.status).toBe(200);
    const bodies = parts.map((p) => (p.body.length === 0 ? undefined : JSON.parse(text(p.body))));
    expect(parts.map((p) => p.status)).toEqual([204, 413, 400, 400, 404, 400, 503]);
    expect(bodies[1]).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE', limitBytes: 4 } });
    expect(bodies[2].error.message).toMatch(/epoch/);
    expect(bodies[4]).toMatchObject({ error: { code: 'NOT_FOUND', resource: 'route' } });
    expect(bodies[5].error.message).toMatch(/other/);
    expect(bodies[6]).toMatchObject({ error: { code: 'NO_LEASE' } });
    expect(node.calls.filter((c) => c.method === 'put').map((c) => c.args[0])).toEqual(['ok']);
    expect([...node.values.keys()]).toEqual(['ok']);
  });

  it('refuses a broken frame, another method or content type as a whole, naming what is wrong', async () => {
    const { node, url } = await startNodeServer();
    const good = encodeDataBatchRequests([{ method: 'PUT', target: '/data/a', value: utf8('x') }]);
    const type = { 'content-type': DATA_BATCH_CONTENT_TYPE };
    const truncated = await request(url, 'POST', DATA_BATCH_PATH, good.subarray(0, good.length - 1), type);
    expect(truncated.status).toBe(400);
    expect(truncated.json.error.message).toMatch(/requests\[0\]\.value/);
    const badMethod = Uint8Array.from(good);
    badMethod[3] = 7;
    expect((await request(url, 'POST', DATA_BATCH_PATH, badMethod, type)).json.error.message).toMatch(/requests\[0\]\.method/);
    const trailing = await request(url, 'POST', DATA_BATCH_PATH, Buffer.concat([good, Buffer.of(0)]), type);
    expect(trailing.json.error.message).toMatch(/trailing/);
    expect((await request(url, 'POST', DATA_BATCH_PATH, Buffer.from([1, 0, 0]), type)).json.error.message).toMatch(/at least one/);
    expect((await request(url, 'POST', DATA_BATCH_PATH, Buffer.from([9, 0, 1]), type)).json.error.message).toMatch(/version/);
    const plain = await request(url, 'POST', DATA_BATCH_PATH, good, { 'content-type': 'application/json' });
    expect(plain.status).toBe(400);
    expect(plain.json.error.message).toMatch(/content-type/);
    const get = await request(url, 'GET', DATA_BATCH_PATH);
    expect(get.status).toBe(405);
    expect(get.headers['allow']).toBe('POST');
    expect(node.calls).toEqual([]);
  });

  it('with auth: no credentials refuse the batch, and a reader reads but cannot write within one', async () => {
    const reader = await createToken('batch-reader');
    const authenticator = new Authenticator({ tokens: [{ name: 'batch-reader', role: 'reader', hash: reader.hash }], internalToken: 'i'.repeat(40), openMetrics: false });
    const { node, url } = await startNodeServer({ internalToken: 'i'.repeat(40), authenticator });
    node.values.set('a', utf8('A'));
    const requests: DataBatchRequest[] = [
      { method: 'GET', target: '/data/a' },
      { method: 'PUT', target: '/data/a', value: utf8('B') },
      { method: 'DELETE', target: '/data/a' },
    ];
    const anonymous = await batch(url, requests);
    expect(anonymous.answer.status).toBe(401);
    expect(anonymous.answer.json.error.code).toBe('UNAUTHENTICATED');
    expect(node.calls).toEqual([]);
    const { answer, parts } = await batch(url, requests, { authorization: `Bearer ${reader.token}` });
    expect(answer.status).toBe(200);
    expect(parts.map((p) => p.status)).toEqual([200, 403, 403]);
    expect(JSON.parse(text(parts[1]!.body))).toMatchObject({ error: { code: 'FORBIDDEN', required: 'writer' } });
    expect(node.calls.map((c) => c.method)).toEqual(['get']);
    expect(text(node.values.get('a')!)).toBe('A');
  });
});
