import { beforeAll, describe, expect, it } from 'vitest';
import { Authenticator } from '../../src/api/auth/index.js';
import { restRoutes } from '../../src/api/coordinator/rest-routes.js';
import { createToken, type Role } from '../../src/config/index.js';
import { FakeCoordinatorService, registerCommand } from './fake-service.js';
import { rawRequest, startServer } from './helpers.js';

const INTERNAL = 'i'.repeat(40);
const tokens: Partial<Record<Role, string>> = {};
let authenticator: Authenticator;

beforeAll(async () => {
  const entries = [];
  for (const role of ['reader', 'writer', 'operator', 'admin'] as const) {
    const { token, hash } = await createToken(`${role}-1`);
    tokens[role] = token;
    entries.push({ name: `${role}-1`, role, hash });
  }
  authenticator = new Authenticator({ tokens: entries, internalToken: INTERNAL, openMetrics: false });
});

const bearer = (token: string | undefined) => ({ authorization: `Bearer ${token ?? ''}` });

async function serve(options: { openMetrics?: boolean } = {}) {
  const service = new FakeCoordinatorService({ shards: 2 });
  const auth = options.openMetrics ? new Authenticator({ tokens: [], internalToken: INTERNAL, openMetrics: true }) : authenticator;
  const server = await startServer(service, { authenticator: auth });
  return { service, url: server.url };
}

/** A path for a route pattern, with plausible parameters. */
const concrete = (pattern: string) => pattern.replace(':id', pattern.startsWith('/shards') ? '0' : 'n1');

describe('the API with auth', () => {
  it('every REST route but /health answers 401 with a JSON error without credentials, and nothing is proposed', async () => {
    const { service, url } = await serve();
    const routes = restRoutes({ text: async () => '', contentType: 'text/plain', access: 'reader' });
    expect(routes.length).toBeGreaterThan(20);
    for (const route of routes) {
      const answer = await rawRequest(`${url}${concrete(route.pattern)}`, route.method, route.body ? {} : undefined);
      if (route.pattern === '/health') {
        expect(answer.status).toBe(200);
        continue;
      }
      expect({ route: `${route.method} ${route.pattern}`, status: answer.status, code: answer.body?.error?.code }).toEqual({
        route: `${route.method} ${route.pattern}`,
        status: 401,
        code: 'UNAUTHENTICATED',
      });
    }
    expect(service.proposed).toEqual([]);
  });

  it('a wrong or malformed token is 401 too; a token of another name with a real secret is refused', async () => {
    const { url } = await serve();
    for (const header of ['Bearer nobody.aaaaaaaaaaaaaaaaaaaaaaaa', 'Basic abc', `Bearer ${tokens.admin}x`, `Bearer reader-1.${tokens.admin?.split('.')[1]}`]) {
      const answer = await rawRequest(`${url}/nodes`, 'GET', undefined, { authorization: header });
      expect({ header, status: answer.status }).toEqual({ header, status: 401 });
    }
  });

  it('403 for too small a role, naming the role needed; 200 with enough', async () => {
    const { service, url } = await serve();
    await service.propose(registerCommand('n1'));
    const proposed = service.proposed.length;
    const denied = await rawRequest(`${url}/nodes/n1/drain`, 'POST', {}, bearer(tokens.reader));
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: 'FORBIDDEN', required: 'operator', role: 'reader' });
    expect((await rawRequest(`${url}/cluster/members`, 'POST', { id: 'c9', host: '127.0.0.9', apiPort: 7009, peerPort: 7109 }, bearer(tokens.operator))).status).toBe(403);
    expect((await rawRequest(`${url}/register`, 'POST', { id: 'n2', address: '127.0.0.1:8082' }, bearer(tokens.operator))).status).toBe(403);
    expect(service.proposed.length).toBe(proposed);
    expect((await rawRequest(`${url}/nodes`, 'GET', undefined, bearer(tokens.reader))).status).toBe(200);
    expect((await rawRequest(`${url}/nodes/n1/drain`, 'POST', {}, bearer(tokens.operator))).status).toBe(200);
    expect((await rawRequest(`${url}/register`, 'POST', { id: 'n2', address: '127.0.0.1:8082' }, bearer(INTERNAL))).status).toBe(200);
  });

  it('tRPC answers 401/403 in its own error shape', async () => {
    const { url } = await serve();
    const none = await rawRequest(`${url}/trpc/nodes.list`, 'GET');
    expect(none.status).toBe(401);
    expect(none.body.error.data).toMatchObject({ code: 'UNAUTHENTICATED', httpStatus: 401 });
    // An admin may do what the cluster's own processes do (the fake has no such node: 404, past the role check).
    const admin = await rawRequest(`${url}/trpc/nodes.renewLease`, 'POST', { id: 'n1', identity: 'x'.repeat(32) }, bearer(tokens.admin));
    expect([401, 403]).not.toContain(admin.status);
    const reader = await rawRequest(`${url}/trpc/nodes.renewLease`, 'POST', { id: 'n1', identity: 'x'.repeat(32) }, bearer(tokens.reader));
    expect(reader.status).toBe(403);
    expect(reader.body.error.data).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403 });
    expect((await rawRequest(`${url}/trpc/cluster.health`, 'GET')).status).toBe(200);
  });

  it('/metrics needs a reader unless auth.openMetrics; /data and the dashboard data need a reader, writes a writer', async () => {
    const { url } = await serve();
    expect((await rawRequest(`${url}/metrics`, 'GET')).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: bearer(tokens.reader) })).status).toBe(200);
    expect((await rawRequest(`${url}/data/k`, 'GET')).status).toBe(401);
    expect((await rawRequest(`${url}/data/k`, 'PUT', 'v', bearer(tokens.reader))).status).toBe(403);
    expect((await rawRequest(`${url}/ui/api/overview`, 'GET')).status).toBe(401);
    expect((await rawRequest(`${url}/ui/api/overview`, 'GET', undefined, bearer(tokens.reader))).status).toBe(200);
    const open = await serve({ openMetrics: true });
    expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
  });

  it('the dashboard cookie authenticates reads (the event stream) but never a write', async () => {
    const { service, url } = await serve();
    const cookie = { cookie: `other=1; torua_token=${encodeURIComponent(tokens.admin ?? '')}` };
    expect((await rawRequest(`${url}/nodes`, 'GET', undefined, cookie)).status).toBe(200);
    const write = await rawRequest(`${url}/register`, 'POST', { id: 'n5', address: '127.0.0.1:8085' }, cookie);
    expect(write.status).toBe(401);
    expect(service.proposed).toEqual([]);
  });
});
