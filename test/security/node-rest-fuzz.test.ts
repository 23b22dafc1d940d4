// A data node's whole HTTP surface over real HTTP with the cluster's tokens:
// hostile paths, queries, methods, bodies and credentials. Never a 500, a
// JSON error (REST's or tRPC's) for every refusal, and a request without the credentials its
// path needs reaches nothing of the node's service. Seeded; FUZZ_RUNS cases.
import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startNodeServer } from '../api/datanode/helpers.js';
import { FUZZ_RUNS, FUZZ_SEED, FUZZ_TIMEOUT_MS, sendFuzzRequest, FUZZ_INTERNAL_TOKEN, fuzzAuth, type FuzzAuth } from './fuzz-support.js';

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
afterAll(() => agent.destroy());

const INTERNAL = FUZZ_INTERNAL_TOKEN;
let auth: FuzzAuth;
beforeAll(async () => {
  auth = await fuzzAuth('fuzz');
});

const segment = fc.oneof(
  fc.constantFrom('k', '..', '.', '%2E%2E', '%00', '%ZZ', '%2F', 'a%20b', '__proto__', 'x'.repeat(300), ''),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);
const prefix = fc.constantFrom('/data/', '/data', '/trpc/', '/trpc/replicate', '/trpc/recovery.begin', '/trpc/handoff', '/trpc/info', '/peer/replicate', '/health', '/info', '/metrics', '/');
const query = fc.constantFrom('', '?epoch=1', '?epoch=-1', '?epoch=1e99', '?epoch=x', '?epoch=1&epoch=2', '?%zz', '?batch=1');
const body = fc.option(
  fc.oneof(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), fc.string({ maxLength: 40 }), fc.constantFrom('', '{', `${'['.repeat(5_000)}`, '{"shard":0,"epoch":1}')),
  { nil: undefined },
);
// A bogus token costs a real scrypt (failures are not cached): rare, or the property takes a minute.
const credential = fc.oneof(
  { weight: 49, arbitrary: fc.constantFrom('none' as const, 'reader' as const, 'writer' as const, 'internal' as const) },
  { weight: 1, arbitrary: fc.constant('bogus' as const) },
);

/** What a path needs, with the cluster's tokens: null when it is open. */
function needs(method: string, path: string): 'reader' | 'writer' | 'internal' | null {
  const raw = path.split('?')[0] ?? '';
  if (raw === '/data' || raw.startsWith('/data/')) return method === 'GET' || method === 'HEAD' ? 'reader' : 'writer';
  if (raw === '/metrics') return 'reader';
  if (raw === '/peer/replicate' || raw === '/trpc' || (raw.startsWith('/trpc/') && !['/trpc/info', '/trpc/health'].includes(raw))) return 'internal';
  return null;
}

const RANK = { none: -1, bogus: -1, reader: 0, writer: 1, internal: 2 } as const;
const NEEDED = { reader: 0, writer: 1, internal: 2 } as const;

describe("a data node's REST and tRPC with the cluster's tokens", () => {
  test(
    'no 500, a JSON error for every refusal, and a caller without enough credentials reaches nothing',
    async () => {
      const { node, url } = await startNodeServer({ internalToken: INTERNAL, authenticator: auth.authenticator });
      const cases = fc.record({
        method: fc.constantFrom('GET', 'PUT', 'DELETE', 'POST', 'PATCH'),
        path: fc.tuple(prefix, fc.array(segment, { maxLength: 2 }), query).map(([p, s, q]) => `${p}${s.join('/')}${q}`),
        body,
        credential,
      });
      await fc.assert(
        fc.asyncProperty(cases, async ({ method, path, body, credential }) => {
          const calls = node.calls.length;
          const token = credential === 'none' ? undefined : credential === 'bogus' ? 'fuzz-writer.not-the-secret' : credential === 'internal' ? INTERNAL : auth.tokens[credential];
          const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
          const answer = await sendFuzzRequest(agent, url, method, path, method === 'GET' ? undefined : body, headers);
          const what = `${credential} ${method} ${path} ${JSON.stringify(body)?.slice(0, 120)} → ${answer.status} ${answer.body.slice(0, 200)}`;
          expect(answer.status, what).not.toBe(500);
          if (answer.status >= 400) {
            let code: unknown;
            try {
              // REST: {error: {code}}; tRPC: {error: {code: <JSON-RPC number>, data: {code}}}, an array of them for a batch.
              type Answer = { error?: { code?: unknown; data?: { code?: unknown } } };
              const parsed = JSON.parse(answer.body) as Answer | Answer[];
              const error = (Array.isArray(parsed) ? parsed[0] : parsed)?.error;
              code = typeof error?.code === 'string' ? error.code : error?.data?.code;
            } catch {
              code = undefined;
            }
            expect(typeof code, what).toBe('string');
          }
          // The internal token is an operator: it may do what a writer may.
          const needed = needs(method, path);
          const rank = credential === 'internal' && needed !== 'internal' ? NEEDED.writer : RANK[credential];
          if (needed !== null && rank < NEEDED[needed]) {
            expect([400, 401, 403, 404, 405], what).toContain(answer.status);
            expect(node.calls.slice(calls).filter((c) => c.method !== 'info' && c.method !== 'health'), what).toEqual([]);
          }
        }),
        { numRuns: FUZZ_RUNS, seed: FUZZ_SEED },
      );
    },
    FUZZ_TIMEOUT_MS * 2,
  );
});
