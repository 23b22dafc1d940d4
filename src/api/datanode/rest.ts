/**
 * The node's REST endpoints: `GET /health`, `GET /info`, `GET /metrics`,
 * and the data path `GET|PUT|DELETE /data/<key>[?epoch=N]` that coordinators
 * and the smart client call. Values travel as raw bytes. It never throws:
 * every failure becomes an `{error: {code, message}}` answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DataNodeService } from '../../datanode/contract.js';
import type { Logger, Metrics } from '../../observability/index.js';
import type { Exchange } from '../http/exchange.js';
import { hasBody } from '../http/json-body.js';
import { readBody } from '../http/read-body.js';
import { requestMethod } from '../http/route-match.js';
import { sendBody, sendJson } from '../http/send.js';
import { checkQuery } from '../coordinator/rest-input.js';
import { sendErrorAnswer } from '../http/error-answer.js';
import { checkDataRequest, DATA_ROUTE, noRoute, notAllowed, runDataRequest } from './data-op.js';
import { DATA_PREFIX, type RequestTarget } from './request-target.js';

export interface NodeRestOptions {
  readonly service: DataNodeService;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly maxValueBytes: () => number;
}

export interface NodeRest {
  handle(req: IncomingMessage, res: ServerResponse, target: RequestTarget, exchange: Exchange): Promise<void>;
}

const VIEW_ROUTES = ['/health', '/info', '/metrics'] as const;
type ViewRoute = (typeof VIEW_ROUTES)[number];

/** Whether the request's body has been read to its end (then the connection can be kept). */
interface BodyState {
  read: boolean;
}

const asBytes = (buffer: Buffer): Uint8Array => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);

export function createNodeRest(options: NodeRestOptions): NodeRest {
  const { service, logger, metrics } = options;

  async function view(route: ViewRoute, res: ServerResponse, headers: Record<string, string>): Promise<void> {
    if (route === '/health') sendJson(res, 200, service.health(), headers);
    else if (route === '/info') sendJson(res, 200, service.info(), headers);
    else sendBody(res, 200, metrics.contentType, await metrics.metricsText(), headers);
  }

  /** The body of a PUT, refused (413) as soon as it passes the value limit: the rest is not read. */
  async function readValue(req: IncomingMessage, exchange: Exchange, body: BodyState): Promise<Uint8Array> {
    const raw = await readBody(req, options.maxValueBytes());
    exchange.receivedBytes = raw.length;
    body.read = true;
    return asBytes(raw);
  }

  async function data(req: IncomingMessage, res: ServerResponse, method: string, target: RequestTarget, exchange: Exchange, body: BodyState): Promise<void> {
    const checked = checkDataRequest(method, target);
    if (method === 'PUT') {
      await runDataRequest(service, method, checked, await readValue(req, exchange, body));
      res.writeHead(204).end();
      return;
    }
    const headers: Record<string, string> = hasBody(req) ? { Connection: 'close' } : {};
    const value = await runDataRequest(service, method, checked);
    if (value === undefined) {
      res.writeHead(204, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': 'application/octet-stream', 'Content-Length': value.byteLength, 'Cache-Control': 'no-store' });
    res.end(value);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, target: RequestTarget, exchange: Exchange): Promise<void> {
    const method = requestMethod(req);
    const body: BodyState = { read: false };
    try {
      if (target.rawPath.startsWith(DATA_PREFIX) || target.rawPath === '/data') {
        exchange.route = DATA_ROUTE;
        await data(req, res, method, target, exchange, body);
        return;
      }
      const route = VIEW_ROUTES.find((r) => r === target.rawPath || `${r}/` === target.rawPath);
      if (route === undefined) throw noRoute(method, target.rawPath);
      exchange.route = route;
      if (method !== 'GET') throw notAllowed(method, route, ['GET']);
      checkQuery(target.query, []);
      // A body these routes do not read is not drained either.
      await view(route, res, hasBody(req) ? { Connection: 'close' } : {});
    } catch (err) {
      if (res.headersSent) {
        logger.warn('REST answer failed after its headers were sent', { route: exchange.route, error: String(err) });
        res.destroy();
        return;
      }
      sendErrorAnswer(req, res, err, { route: exchange.route, bodyRead: body.read, logger, metrics });
    }
  }

  return { handle };
}
