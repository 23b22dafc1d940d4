/**
 * The REST adapter: matches a request to a route of rest-routes.ts, reads
 * and checks its input, calls the procedure through createCaller and writes
 * the answer, or the `{error: {code, message}}` body with its status
 * (DESIGN.md §7). It never throws: every failure becomes an answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';
import type { Logger, Metrics } from '../../observability/index.js';
import { requireAccess, type Access } from '../auth/index.js';
import { createAppCaller } from './caller.js';
import type { ApiContext } from './context.js';
import { HttpError, HttpErrorCode } from './errors/http-error.js';
import type { Exchange } from '../http/exchange.js';
import { hasBody, readJsonBody } from '../http/json-body.js';
import { compilePattern, matchPattern, pathSegments, requestMethod, type CompiledPattern } from '../http/route-match.js';
import { sendBody, sendJson } from '../http/send.js';
import { sendErrorAnswer } from '../http/error-answer.js';
import { checkQuery, consistencyOf } from './rest-input.js';
import { restRoutes, type RestRoute } from './rest-routes.js';

export interface RestAdapterOptions {
  readonly contextFor: (req: IncomingMessage) => ApiContext;
  readonly metricsText: () => Promise<string>;
  readonly metricsContentType: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** `GET /metrics`: `reader`, or `open` when the cluster file's auth says so. */
  readonly metricsAccess?: Access;
}

export interface RestAdapter {
  handle(req: IncomingMessage, res: ServerResponse, url: URL, exchange: Exchange): Promise<void>;
}

interface Match {
  readonly route: RestRoute;
  readonly params: Record<string, string>;
}

export function createRestAdapter(options: RestAdapterOptions): RestAdapter {
  const routes = restRoutes({ text: options.metricsText, contentType: options.metricsContentType, access: options.metricsAccess ?? 'open' });
  const compiled: readonly (readonly [RestRoute, CompiledPattern])[] = routes.map((r) => [r, compilePattern(r.pattern)]);

  /** The route for the method, or 404 (no route has this path) / 405 (some have, with other methods). */
  function match(method: string, pathname: string): Match {
    const segments = pathSegments(pathname);
    const allowed: string[] = [];
    for (const [route, pattern] of compiled) {
      const params = matchPattern(pattern, segments);
      if (params === undefined) continue;
      if (route.method === method) return { route, params };
      allowed.push(route.method);
    }
    if (allowed.length > 0) {
      const methods = [...new Set(allowed)];
      throw new HttpError(HttpErrorCode.MethodNotAllowed, `${method} is not allowed on ${pathname} (allowed: ${methods.join(', ')})`, { allowed: methods });
    }
    throw new ClusterError({ code: ClusterErrorCode.NotFound, resource: 'route', id: pathname.slice(0, 200) }, `no route ${method} ${pathname.slice(0, 200)}`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL, exchange: Exchange): Promise<void> {
    let bodyRead = false;
    try {
      const { route, params } = match(requestMethod(req), url.pathname);
      exchange.route = route.pattern;
      // Before the query or body is looked at: a caller without credentials learns nothing from a 400.
      // A route that calls a procedure needs a known caller here; the procedure checks the role.
      const ctx = options.contextFor(req);
      requireAccess(ctx.auth, route.access, `${route.method} ${route.pattern}`);
      checkQuery(url.searchParams, route.query);
      const consistency = route.query.includes('stale') ? consistencyOf(url.searchParams) : 'linearizable';
      let body: unknown;
      if (route.body) {
        const read = await readJsonBody(req);
        body = read.value;
        bodyRead = true;
        exchange.receivedBytes = read.bytes;
      }
      const caller = createAppCaller(ctx);
      const reply = await route.handle({ caller, params, query: url.searchParams, body, consistency });
      // A body this route does not read is not drained either.
      const headers: Record<string, string> = !route.body && hasBody(req) ? { Connection: 'close' } : {};
      if ('json' in reply) sendJson(res, 200, reply.json, headers);
      else sendBody(res, 200, reply.contentType, reply.text, headers);
    } catch (err) {
      sendErrorAnswer(req, res, err, { route: exchange.route, bodyRead, logger: options.logger, metrics: options.metrics });
    }
  }

  return { handle };
}
