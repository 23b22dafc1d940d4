/**
 * The REST endpoints of DESIGN.md §7, each a thin
 * call of the tRPC procedure that implements it (through createCaller), so
 * that REST and tRPC can never disagree. (`/data/<key>` is not here: it
 * forwards raw bytes to the shard's primary, see data/data-handler.ts.)
 */
import type { Consistency } from '../../coordinator/service.js';
import { numeric, withPathParams, withQueryFlags } from './rest-input.js';
import type { Access } from '../auth/index.js';
import type { AppCaller } from './caller.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RestRequest {
  readonly caller: AppCaller;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The parsed JSON body (`{}` when empty); undefined for routes that take none. */
  readonly body: unknown;
  /** From `?stale=true`, on routes that accept it. */
  readonly consistency: Consistency;
}

export type RestReply = { readonly json: unknown } | { readonly text: string; readonly contentType: string };

export interface RestRoute {
  readonly method: HttpMethod;
  readonly pattern: string;
  /** The query parameters it reads; any other is refused with 400. */
  readonly query: readonly string[];
  /** Whether it reads a JSON body. */
  readonly body: boolean;
  /**
   * Checked before the query and body are read. A route that calls a
   * procedure needs at least `reader` here, and the procedure then checks
   * its own role (a write needs more).
   */
  readonly access: Access;
  readonly handle: (req: RestRequest) => Promise<RestReply>;
}

/**
 * A request's input handed to a procedure as is: the procedure's schema
 * validates it (that is the point of calling it), and its 400 names the field.
 */
const unchecked = <T,>(input: unknown): T => input as T;

const json = async (value: Promise<unknown>): Promise<RestReply> => ({ json: await value });

function get(pattern: string, query: readonly string[], handle: (req: RestRequest) => Promise<unknown>): RestRoute {
  return { method: 'GET', pattern, query, body: false, access: 'reader', handle: (req) => json(handle(req)) };
}

function write(method: Exclude<HttpMethod, 'GET'>, pattern: string, handle: (req: RestRequest) => Promise<unknown>, body = true): RestRoute {
  return { method, pattern, query: [], body, access: 'reader', handle: (req) => json(handle(req)) };
}

const READ = ['stale'] as const;
const CONFIG_WAIT = ['wait', 'timeoutMs'] as const;

export function restRoutes(metrics: { text(): Promise<string>; contentType: string; access: Access }): readonly RestRoute[] {
  return [
    { ...get('/health', [], ({ caller }) => caller.cluster.health()), access: 'open' },
    get('/cluster/info', READ, ({ caller, consistency }) => caller.cluster.info({ consistency })),
    get('/cluster/members', [], ({ caller }) => caller.members.list()),
    write('POST', '/cluster/members', ({ caller, body }) => caller.members.add(unchecked(body))),
    write('DELETE', '/cluster/members/:id', ({ caller, params }) => caller.members.remove({ id: params['id'] ?? '' }), false),
    write('POST', '/cluster/leader/transfer', ({ caller, body }) => caller.members.transferLeader(unchecked(body))),
    // An addition to §7: the settings and their version, which a PUT must name as expectedVersion.
    get('/cluster/config', READ, ({ caller, consistency }) => caller.admin.config({ consistency })),
    // `?wait=true[&timeoutMs=N]`: answered once every serving node runs the new version, or 504 naming the rest.
    {
      method: 'PUT',
      pattern: '/cluster/config',
      query: CONFIG_WAIT,
      body: true,
      access: 'reader',
      handle: ({ caller, body, query }) => json(caller.admin.updateConfig(unchecked(withQueryFlags(body, query, CONFIG_WAIT)))),
    },
    // An addition to §7: the whole routing table with its index and hash, for `torua snapshot save`.
    get('/cluster/snapshot', [], ({ caller }) => caller.admin.snapshot()),
    write('POST', '/cluster/plan', ({ caller, body }) => caller.cluster.plan(unchecked(body))),
    write('POST', '/cluster/rebalance', ({ caller, body }) => caller.admin.rebalance(unchecked(body))),
    // Additions to §7: a rolling upgrade recorded in the table (`torua upgrade` drives it; progress also in /cluster/info).
    get('/cluster/upgrade', READ, ({ caller, consistency }) => caller.upgrade.status({ consistency })),
    write('POST', '/cluster/upgrade', ({ caller, body }) => caller.upgrade.start(unchecked(body))),
    write('POST', '/cluster/upgrade/step', ({ caller, body }) => caller.upgrade.step(unchecked(body))),
    write('POST', '/register', ({ caller, body }) => caller.nodes.register(unchecked(body))),
    get('/nodes', READ, ({ caller, consistency }) => caller.nodes.list({ consistency })),
    get('/nodes/:id/info', READ, ({ caller, params, consistency }) => caller.nodes.get({ id: params['id'] ?? '', consistency })),
    write('PUT', '/nodes/:id/labels', ({ caller, params, body }) => caller.nodes.setLabels(unchecked(withPathParams(body, { id: params['id'] })))),
    write('POST', '/nodes/:id/drain', ({ caller, params, body }) => caller.nodes.drain(unchecked(withPathParams(body, { id: params['id'] })))),
    write('POST', '/nodes/:id/remove', ({ caller, params, body }) => caller.nodes.remove(unchecked(withPathParams(body, { id: params['id'] })))),
    write('POST', '/nodes/maintenance', ({ caller, body }) => caller.nodes.maintenance(unchecked(body))),
    write('POST', '/nodes/:id/evacuate', ({ caller, params, body }) => caller.nodes.evacuate(unchecked(withPathParams(body, { id: params['id'] })))),
    write('POST', '/nodes/:id/evacuate/cancel', ({ caller, params, body }) =>
      caller.nodes.cancelEvacuation(unchecked(withPathParams(body, { id: params['id'] }))),
    ),
    get('/shards', READ, ({ caller, consistency }) => caller.shards.list({ consistency })),
    get('/shards/:id/explain', READ, ({ caller, params, consistency }) => caller.shards.explain({ id: unchecked(numeric(params['id'] ?? '')), consistency })),
    // Additions to §7: placing a shard by hand (the placement driver places them by itself), and what a primary calls when a replica caught up.
    write('POST', '/shards/:id/assign', ({ caller, params, body }) =>
      caller.shards.assign(unchecked(withPathParams(body, { id: numeric(params['id'] ?? '') }))),
    ),
    write('POST', '/shards/:id/in-sync', ({ caller, params, body }) =>
      caller.shards.setInSync(unchecked(withPathParams(body, { id: numeric(params['id'] ?? '') }))),
    ),
    get('/events', ['since', ...READ], ({ caller, query, consistency }) => {
      const since = query.get('since');
      return caller.events.list({ ...(since === null ? {} : { since: unchecked(numeric(since)) }), consistency });
    }),
    { method: 'GET', pattern: '/metrics', query: [], body: false, access: metrics.access, handle: async () => ({ text: await metrics.text(), contentType: metrics.contentType }) },
  ];
}
