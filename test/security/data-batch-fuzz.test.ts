// A data node's POST /data-batch over real HTTP with the cluster's tokens: hostile frames (well
// formed with hostile targets, values and credentials, then mutated byte by byte). Never a 500,
// a JSON error when the whole batch is refused, an answer per request otherwise, and the node's
// service sees exactly the requests that were carried out. Seeded; FUZZ_RUNS cases.
import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DATA_BATCH_CONTENT_TYPE, DATA_BATCH_PATH, decodeDataBatchAnswers, decodeDataBatchRequests, encodeDataBatchRequests, type DataBatchRequest } from '../../src/data-wire/batch-frame.js';
import { startNodeServer } from '../api/datanode/helpers.js';
import { FUZZ_RUNS, FUZZ_SEED, FUZZ_TIMEOUT_MS, mutate, mutationsArb, FUZZ_INTERNAL_TOKEN, fuzzAuth, type FuzzAuth } from './fuzz-support.js';

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
afterAll(() => agent.destroy());

const INTERNAL = FUZZ_INTERNAL_TOKEN;
let auth: FuzzAuth;
beforeAll(async () => {
  auth = await fuzzAuth('batch-fuzz');
});

const segment = fc.oneof(fc.constantFrom('k', '..', '.', '%2E%2E', '%00', '%ZZ', '%2F', '__proto__', 'x'.repeat(1_100), ''), fc.string({ maxLength: 12 }).map(encodeURIComponent));
const prefix = fc.constantFrom('/data/', '/data/', '/data/', '/data', '/trpc/handoff', '/peer/replicate', '/info', '/data-batch', '');
const query = fc.constantFrom('', '?epoch=1', '?epoch=-1', '?epoch=1e99', '?epoch=x', '?epoch=1&epoch=2', '?%zz', '?other=1');
const requestArb: fc.Arbitrary<DataBatchRequest> = fc
  .record({
    method: fc.constantFrom('GET' as const, 'PUT' as const, 'DELETE' as const),
    target: fc.tuple(prefix, fc.array(segment, { maxLength: 2 }), query).map(([p, s, q]) => `${p}${s.join('/')}${q}`),
    value: fc.uint8Array({ maxLength: 24 }),
  })
  .map((r) => (r.method === 'PUT' ? r : { method: r.method, target: r.target }));

const RANK = { none: -1, reader: 0, writer: 1, internal: 1 } as const;

describe("a data node's POST /data-batch", () => {
  test(
    'no 500, one answer per request, and the service sees exactly what was carried out',
    async () => {
      const { node, url } = await startNodeServer({ internalToken: INTERNAL, authenticator: auth.authenticator, maxValueBytes: 16 });
      const { hostname, port } = new URL(url);
      const cases = fc.record({
        requests: fc.array(requestArb, { minLength: 1, maxLength: 6 }),
        mutations: fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 2, arbitrary: mutationsArb }),
        credential: fc.constantFrom('none' as const, 'reader' as const, 'writer' as const, 'internal' as const),
        contentType: fc.oneof({ weight: 9, arbitrary: fc.constant(DATA_BATCH_CONTENT_TYPE) }, { weight: 1, arbitrary: fc.constant('application/json') }),
      });
      await fc.assert(
        fc.asyncProperty(cases, async ({ requests, mutations, credential, contentType }) => {
          const frame = mutate(encodeDataBatchRequests(requests), mutations);
          const token = credential === 'none' ? undefined : credential === 'internal' ? INTERNAL : auth.tokens[credential];
          const headers: Record<string, string> = { 'content-type': contentType, 'content-length': String(frame.length), ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) };
          const before = node.calls.length;
          const answer = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
            const req = http.request({ host: hostname, port, method: 'POST', path: DATA_BATCH_PATH, headers, agent }, (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
            });
            req.on('error', reject);
            req.end(frame);
          });
          const calls = node.calls.slice(before);
          const what = `${credential} ${JSON.stringify(requests).slice(0, 300)} mutations ${JSON.stringify(mutations)} → ${answer.status}`;
          expect(answer.status, what).not.toBe(500);
          if (answer.status !== 200) {
            expect(JSON.parse(answer.body.toString('utf8')).error.code, what).toEqual(expect.any(String));
            expect(calls, what).toEqual([]);
            if (credential === 'none' && contentType === DATA_BATCH_CONTENT_TYPE) expect(answer.status, what).toBe(401);
            return;
          }
          // What the node read (after the mutations), and what it answered to each.
          const sent = decodeDataBatchRequests(frame);
          const parts = decodeDataBatchAnswers(answer.body, sent.length);
          let carriedOut = 0;
          parts.forEach((p, i) => {
            const r = sent[i]!;
            expect(p.status, what).toBeLessThan(500);
            const json = p.body.length > 0 && p.status >= 400 ? JSON.parse(Buffer.from(p.body).toString('utf8')) : undefined;
            if (p.status >= 400) expect(json.error.code, what).toEqual(expect.any(String));
            const needed = r.method === 'GET' ? 0 : 1;
            if (RANK[credential] < needed) expect(p.status, what).toBeGreaterThanOrEqual(400);
            const missingKey = p.status === 404 && json?.error.resource === 'key';
            if (p.status < 300 || missingKey) carriedOut++;
          });
          expect(calls.length, what).toBe(carriedOut);
        }),
        { numRuns: FUZZ_RUNS, seed: FUZZ_SEED },
      );
    },
    FUZZ_TIMEOUT_MS * 2,
  );
});
