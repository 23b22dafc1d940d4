/**
 * The HTTP server of one coordinator replica, on its `host:apiPort`
 * (DESIGN.md §1): tRPC under `/trpc` (queries, mutations and the SSE event
 * subscription), `/data/<key>` forwarded to the shard's primary, the REST
 * endpoints of §7 everywhere else, `/metrics` among them, and the dashboard
 * under `/ui/`. It binds to the
 * replica's host only.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { NodeControl } from '../../coordinator/node-control.js';
import { TurnQueue } from '../../coordinator/turn-queue.js';
import { MetricsFeed, type MetricsFeedModules } from '../../coordinator/notifications/index.js';
import type { CoordinatorService } from '../../coordinator/service.js';
import { ClusterErrorCode, INTERNAL_ERROR_MESSAGE } from '../../errors/index.js';
import { createNoopMetrics, silentLogger, type Logger, type Metrics } from '../../observability/index.js';
import { FORWARDED_BY_HEADER, type ApiContext, type ForwardingOptions } from './context.js';
import { describeError, isInternal } from './errors/describe-error.js';
import { UNMATCHED_ROUTE, type Exchange } from './http/exchange.js';
import { handleDirectMutation, isDirectMutation } from './http/direct-mutation.js';
import { instrumentExchange } from './http/http-metrics.js';
import { sendJson } from './http/send.js';
import { DEFAULT_FORWARD_TIMEOUT_MS, MAX_BODY_BYTES } from './limits.js';
import { answerUnparsableRequests, TIMEOUT_CHECK_INTERVAL_MS } from '../http/client-error.js';
import { createDataHandler, isDataTarget } from './data/data-handler.js';
import { createHttpNodeLink } from './node-link.js';
import { RenewalRelay } from './renewal-relay.js';
import { createRestAdapter } from './rest.js';
import { appRouter } from './routers/_app.js';
import { createUiHandler, isUiPath } from './ui/ui-handler.js';

export interface CoordinatorApiServerOptions {
  readonly service: CoordinatorService;
  /** The replica's host: the server listens there only, and forwarded calls dial from it. */
  readonly host: string;
  /** The replica's apiPort; 0 takes a free port (tests), which `start()` reports. */
  readonly port: number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /** What `GET /metrics` serves; by default `metrics.metricsText()`, after recounting the gauges fed from the table (MetricsFeed). */
  readonly metricsText?: () => Promise<string>;
  /** The replica's peer transport counters, for the transport metrics at each scrape (the composition root passes them). */
  readonly transportStats?: MetricsFeedModules['transportStats'];
  /** false: a follower answers leader-only calls with 421 and the leader's address instead of forwarding them. */
  readonly forwardToLeader?: boolean;
  readonly forwardTimeoutMs?: number;
  /**
   * The leader's duties towards data nodes (leases, placement, removal); the
   * composition root passes the replica's. Absent: the server makes one
   * without a placement driver, and closes it with itself.
   */
  readonly nodeControl?: NodeControl;
  /** How long `/data/<key>` waits for the primary's answer. */
  readonly dataTimeoutMs?: number;
  /** Where the dashboard's built files are (`/ui/`); by default next to the UI module in dist/. */
  readonly uiAssetsDir?: string;
}

export interface CoordinatorApiServer {
  /** Listens; resolves with the port (the one given, or the one taken for port 0). */
  start(): Promise<{ port: number }>;
  /** Stops listening and ends every connection, event streams included. */
  close(): Promise<void>;
}

const TRPC_PREFIX = '/trpc';
/** Slow clients may not hold a connection open by dribbling headers or a body. */
const HEADERS_TIMEOUT_MS = 10_000;
/** Requests begun per turn of the event loop, and waiting at most (beyond: 429). */
const REQUESTS_PER_TURN = 32;
const MAX_QUEUED_REQUESTS = 4_096;
const REQUEST_TIMEOUT_MS = 30_000;

/** The header's value if it names a replica; anything else present still marks the call as forwarded. */
function forwardedByOf(req: IncomingMessage): string | undefined {
  const value = req.headers[FORWARDED_BY_HEADER];
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  return text.slice(0, 64) || '?';
}

export function createCoordinatorApiServer(options: CoordinatorApiServerOptions): CoordinatorApiServer {
  const logger = (options.logger ?? silentLogger).child({ component: 'api' });
  const metrics = options.metrics ?? createNoopMetrics();
  // Sockets bind to an address, not a name: a replica configured by hostname dials from wherever the OS picks.
  const localAddress = isIP(options.host) === 0 ? undefined : options.host;
  const forwarding: ForwardingOptions = {
    enabled: options.forwardToLeader ?? true,
    timeoutMs: options.forwardTimeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS,
    localAddress,
  };
  const ownNodeControl = options.nodeControl === undefined;
  const nodeControl = options.nodeControl ?? new NodeControl({ placement: false }, { service: options.service, nodeLink: createHttpNodeLink({ localAddress }), logger });
  const renewalRelay = new RenewalRelay({ from: () => options.service.status().id, localAddress });
  const contextFor = (req: IncomingMessage): ApiContext => ({ service: options.service, nodeControl, logger, metrics, forwarding, renewalRelay, forwardedBy: forwardedByOf(req) });
  const data = createDataHandler({ localAddress, ...(options.dataTimeoutMs === undefined ? {} : { timeoutMs: options.dataTimeoutMs }) }, { service: options.service, logger, metrics });

  const procedures = new Set(Object.keys(appRouter._def.procedures));
  const trpcRoute = (pathname: string): string => {
    const path = pathname.slice(TRPC_PREFIX.length + 1);
    if (path.includes(',')) return `${TRPC_PREFIX}/:batch`;
    return procedures.has(path) ? `${TRPC_PREFIX}/${path}` : `${TRPC_PREFIX}/${UNMATCHED_ROUTE}`;
  };

  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: `${TRPC_PREFIX}/`,
    maxBodySize: MAX_BODY_BYTES,
    createContext: ({ req }) => contextFor(req),
    onError({ error, path }) {
      const failure = describeError(error);
      metrics.http.errors.inc({ code: failure.body.error.code });
      if (isInternal(failure)) logger.error('internal error answering a tRPC call', { err: error.cause ?? error, path });
    },
  });

  const ui = createUiHandler({ contextFor, localAddress, ...(options.uiAssetsDir === undefined ? {} : { assetsDir: options.uiAssetsDir }) });
  const feed = new MetricsFeed({}, { service: options.service, metrics, ...(options.transportStats === undefined ? {} : { transportStats: options.transportStats }) });
  const metricsText = async (): Promise<string> => {
    await feed.refresh();
    return metrics.metricsText();
  };
  const rest = createRestAdapter({
    contextFor,
    metricsText: options.metricsText ?? metricsText,
    metricsContentType: metrics.contentType,
    logger,
    metrics,
  });

  // Requests are handled a batch per turn of the event loop: a flood of them (a thousand nodes renewing) must not hold back Raft's tick.
  const admitted = new TurnQueue({ perTurn: REQUESTS_PER_TURN, maxQueued: MAX_QUEUED_REQUESTS, failed: (err) => logger.error('request handler failed', { err }) });
  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (admitted.push(() => handle(req, res))) return;
    metrics.http.errors.inc({ code: ClusterErrorCode.Overloaded });
    res.setHeader('Retry-After', '1');
    sendJson(res, 429, { error: { code: ClusterErrorCode.Overloaded, message: `replica busy: ${MAX_QUEUED_REQUESTS} requests waiting; retry shortly` } });
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const exchange: Exchange = { route: UNMATCHED_ROUTE, receivedBytes: 0 };
    instrumentExchange(req, res, exchange, metrics, logger);
    if (isDataTarget(req.url)) {
      data.handle(req, res, exchange).catch((err: unknown) => {
        // handle() answers every error itself; this is the last guard against a crash.
        logger.error('data handler failed', { err });
        res.destroy();
      });
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://api.invalid');
    } catch {
      sendJson(res, 400, { error: { code: ClusterErrorCode.InvalidInput, message: 'path: not a valid request target' } });
      return;
    }
    if (url.pathname === TRPC_PREFIX || url.pathname.startsWith(`${TRPC_PREFIX}/`)) {
      exchange.route = trpcRoute(url.pathname);
      if (isDirectMutation(req.method, url.pathname, url.search, TRPC_PREFIX)) {
        // handleDirectMutation answers every error itself.
        void handleDirectMutation(req, res, url.pathname.slice(TRPC_PREFIX.length + 1), contextFor(req));
        return;
      }
      trpc(req, res);
      return;
    }
    if (isUiPath(url.pathname)) {
      ui.handle(req, res, url, exchange).catch((err: unknown) => {
        logger.error('dashboard handler failed', { err });
        res.destroy();
      });
      return;
    }
    rest.handle(req, res, url, exchange).catch((err: unknown) => {
      // handle() answers every error itself; this is the last guard against a crash on bad input.
      logger.error('REST handler failed', { err });
      if (!res.headersSent) sendJson(res, 500, { error: { code: ClusterErrorCode.Internal, message: INTERNAL_ERROR_MESSAGE } });
      else res.destroy();
    });
  }

  const server = http.createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS }, onRequest);
  // A request node:http cannot even parse (bad request line, huge headers) gets a 400 and the connection closes.
  answerUnparsableRequests(server);

  let listening: Promise<{ port: number }> | undefined;

  return {
    start() {
      listening ??= new Promise((resolve, reject) => {
        const onError = (err: Error) => {
          listening = undefined;
          reject(err);
        };
        server.once('error', onError);
        server.listen({ host: options.host, port: options.port }, () => {
          server.off('error', onError);
          const port = (server.address() as AddressInfo).port;
          logger.info('coordinator API listening', { host: options.host, port });
          resolve({ port });
        });
      });
      return listening;
    },

    async close() {
      data.close();
      renewalRelay.close();
      if (ownNodeControl) await nodeControl.close();
      if (!server.listening) return;
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Event streams never end by themselves; idle keep-alive connections would hold close() for seconds.
        server.closeAllConnections();
        listening = undefined;
      });
    },
  };
}
