// Every REST route over real HTTP with hostile paths and bodies: never a 500,
// never a dropped connection, always a JSON error body for a refusal, and a
// refused request leaves the routing table as it was. Seeded; FUZZ_RUNS cases.
import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Authenticator } from '../../src/api/auth/index.js';
import { restRoutes } from '../../src/api/coordinator/rest-routes.js';
import { createToken } from '../../src/config/index.js';
import { FakeCoordinatorService, registerCommand } from '../api/fake-service.js';
import { startServer } from '../api/helpers.js';
import { FUZZ_RUNS, FUZZ_SEED, FUZZ_TIMEOUT_MS, sendFuzzRequest, type FuzzAnswer } from './fuzz-support.js';

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
afterAll(() => agent.destroy());

function send(url: string, method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<FuzzAnswer> {
  return sendFuzzRequest(agent, url, method, path, body, { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) });
}

const segment = fc.oneof(
  fc.constantFrom('n1', 'n2', '0', '1', '99999', '-1', '..', '.', '%2E%2E', '%00', '%ZZ', '%2F', 'a%20b', '__proto__', 'constructor', 'x'.repeat(300), ''),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);
const SERVICE_CONDITIONS = ['UNAVAILABLE', 'TIMEOUT', 'NO_LEADER', 'NO_QUORUM', 'OVERLOADED'];

const jsonBody = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.constantFrom('', '{', '{"id":', '[]', 'null', '{"__proto__":{"id":"n1"}}', '{"constructor":{"prototype":{}}}', `${'['.repeat(5_000)}`, '{"a":1,"a":2}', '\u0000'),
  fc.string({ maxLength: 40 }),
  fc
    .record({ id: fc.oneof(fc.constant('n1'), fc.jsonValue({ maxDepth: 1 })), address: fc.oneof(fc.constant('127.0.0.1:8081'), fc.string({ maxLength: 30 })), reason: fc.string({ maxLength: 20 }) }, { requiredKeys: [] })
    .map((v) => JSON.stringify(v)),
);

let admin = '';
let authenticator: Authenticator;
beforeAll(async () => {
  const { token, hash } = await createToken('fuzz-admin');
  admin = token;
  authenticator = new Authenticator({ tokens: [{ name: 'fuzz-admin', role: 'admin', hash }], internalToken: 'i'.repeat(40), openMetrics: false });
});

describe('REST paths and bodies', () => {
  test(
    'no 500, a JSON error for every refusal, and a refused request changes nothing',
    async () => {
      const service = new FakeCoordinatorService({ shards: 4 });
      for (const id of ['n1', 'n2', 'n3']) await service.propose(registerCommand(id));
      const server = await startServer(service, { authenticator });
      const routes = restRoutes({ text: async () => '', contentType: 'text/plain', access: 'reader' });
      const paths = fc.oneof(
        { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...routes), fc.array(segment, { minLength: 3, maxLength: 3 })).map(([r, s]) => ({ method: r.method as string, path: r.pattern.replace(':id', s[0] ?? '') })) },
        { weight: 1, arbitrary: fc.tuple(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'), fc.array(segment, { maxLength: 4 })).map(([method, s]) => ({ method, path: `/${s.join('/')}` })) },
        { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...routes), fc.constantFrom('?stale=true', '?stale=maybe', '?since=-1', '?wait=true&timeoutMs=1e9', '?x=1', '?%zz')).map(([r, q]) => ({ method: r.method as string, path: `${r.pattern.replace(':id', 'n1')}${q}` })) },
      );
      const cases = fc.record({ target: paths, body: fc.option(jsonBody, { nil: undefined }), authed: fc.boolean() });
      await fc.assert(
        fc.asyncProperty(cases, async ({ target, body, authed }) => {
          const before = service.state;
          const headers: Record<string, string> = authed ? { authorization: `Bearer ${admin}` } : {};
          const sent = target.method === 'GET' ? undefined : body;
          const answer = await send(server.url, target.method, target.path, sent, headers);
          const what = `${target.method} ${target.path} ${JSON.stringify(sent)?.slice(0, 200)} → ${answer.status} ${answer.body.slice(0, 300)}`;
          expect(answer.status, what).not.toBe(500);
          if (answer.status < 400) return;
          let code: unknown;
          try {
            code = (JSON.parse(answer.body) as { error?: { code?: unknown } }).error?.code;
          } catch {
            code = undefined;
          }
          expect(typeof code, what).toBe('string');
          if (answer.status >= 500) expect(SERVICE_CONDITIONS, what).toContain(code);
          if (!authed) expect(answer.status === 401 || answer.status === 404 || answer.status === 405 || answer.status === 400, what).toBe(true);
          expect(service.state === before, what).toBe(true);
        }),
        { numRuns: FUZZ_RUNS, seed: FUZZ_SEED },
      );
    },
    FUZZ_TIMEOUT_MS * 2,
  );
});
