/**
 * The HTTP server of one coordinator replica, on its `host:apiPort`
 * (DESIGN.md §1): tRPC under `/trpc` (queries, mutations and the SSE event
 * subscription), `/data/<key>` forwarded to the shard's primary, the REST
 * endpoints of §7 everywhere else, `/metrics` among them, and the dashboard
 * under `/ui/`. It binds to the
 * replica's host only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createWebServer } from '../../tls/web.js';
import { callerCertificate } from '../http/caller-certificate.js';
import { isIP, type AddressInfo } from 'node:net';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { NodeControl } from '../../coordinator/node-control.js';
import { TurnQueue } from '../../coordinator/turn-queue.js';
import { MetricsFeed, type MetricsFeedModules } from '../../coordinator/notifications/index.js';
import type { CoordinatorService } from '../../coordinator/service.js';
import { ClusterErrorCode, INTERNAL_ERROR_MESSAGE } from '../../errors/index.js';
import { createNoopMetrics, silentLogger, type Logger, type Metrics } from '../../observability/index.js';
import { OPEN_AUTH, requireAccess, type Access, type Authenticator, type RequestAuth } from '../auth/index.js';
import { sendErrorAnswer } from '../http/error-answer.js';
import { FORWARDED_BY_HEADER, type ApiContext, type ForwardingOptions } from './context.js';
import { describeError, isInternal } from './errors/describe-error.js';
import { UNMATCHED_ROUTE, type Exchange } from '../http/exchange.js';
import { handleDirectMutation, isDirectMutation } from './direct-mutation.js';
import { instrumentExchange } from '../http/http-metrics.js';
import { sendJson } from '../http/send.js';
import { DEFAULT_FORWARD_TIMEOUT_MS, MAX_API_CONNECTIONS, MAX_BODY_BYTES, MAX_TRPC_BATCH } from './limits.js';
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
  /**
   * Checks every request's bearer token (the cluster file's `auth`); absent,
   * the API is open. `/health` and the dashboard's files are always open.
   */
  readonly authenticator?: Authenticator;
  /** What this replica shows data nodes when it relays `/data` (`Bearer <internal token>` when the cluster has auth). */
  readonly nodeAuthorization?: string;
}

export interface CoordinatorApiServer {
  /** Listens; resolves with the port (the one given, or the one taken for port 0). */
  start(): Promise<{ port: number }>;
  /** Stops listening and ends every connection, event streams included. */
  close(): Promise<void>;
}

const TRPC_PREFIX = '/trpc';
const UI_API_PREFIX = '/ui/api/';
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

/**
 * The Authorization header, or, for a read only, the dashboard's cookie (a
 * browser's EventSource cannot send headers). Never for a write, so a page
 * of another site cannot make a browser change the cluster with it.
 */
function credentialsOf(req: IncomingMessage): string | undefined {
  if (req.headers.authorization !== undefined) return req.headers.authorization;
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  const cookie = /(?:^|;\s*)torua_token=([^;]{1,512})/.exec(req.headers.cookie ?? '');
  if (cookie === null) return undefined;
  try {
    return `Bearer ${decodeURIComponent(cookie[1] ?? '')}`;
  } catch {
    return undefined;
  }
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
  // Renewals held for a leader that is gone are refused NOT_LEADER naming the new one, which takes them at once (renewal-relay.ts).
  const unwatchLeader = options.service.onRoleChange((c) => renewalRelay.leaderChanged(c.leader, c.term, c.leader === '' ? undefined : options.service.apiAddressOf(c.leader)));
  // Each request is authenticated once, before it is routed; every handler's context carries the outcome.
  const authOf = new WeakMap<IncomingMessage, RequestAuth>();
  const contextFor = (req: IncomingMessage): ApiContext => ({
    service: options.service,
    nodeControl,
    logger,
    metrics,
    forwarding,
    renewalRelay,
    forwardedBy: forwardedByOf(req),
    peerCertificate: callerCertificate(req),
    auth: authOf.get(req) ?? (options.authenticator === undefined ? OPEN_AUTH : { enforced: true, principal: null }),
  });
  const data = createDataHandler(
    { localAddress, authorization: options.nodeAuthorization, ...(options.dataTimeoutMs === undefined ? {} : { timeoutMs: options.dataTimeoutMs }) },
    { service: options.service, logger, metrics },
  );

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
    // A batch is one request that fans out into many calls: bounded like everything else (beyond: 400).
    maxBatchSize: MAX_TRPC_BATCH,
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
    metricsAccess: options.authenticator?.openMetrics === false ? 'reader' : 'open',
  });

  // Requests are handled a batch per turn of the event loop: a flood of them (a thousand nodes renewing) must not hold back Raft's tick.
  const admitted = new TurnQueue({ perTurn: REQUESTS_PER_TURN, maxQueued: MAX_QUEUED_REQUESTS, failed: (err) => logger.error('request handler failed', { err }) });
  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (admitted.push(() => authenticated(req, res))) return;
    metrics.http.errors.inc({ code: ClusterErrorCode.Overloaded });
    res.setHeader('Retry-After', '1');
    sendJson(res, 429, { error: { code: ClusterErrorCode.Overloaded, message: `replica busy: ${MAX_QUEUED_REQUESTS} requests waiting; retry shortly` } });
  }

  function authenticated(req: IncomingMessage, res: ServerResponse): void {
    const authenticator = options.authenticator;
    if (authenticator === undefined) {
      handle(req, res);
      return;
    }
    authenticator.authenticate(credentialsOf(req)).then(
      (auth) => {
        authOf.set(req, auth);
        handle(req, res);
      },
      (err: unknown) => sendErrorAnswer(req, res, err, { route: UNMATCHED_ROUTE, bodyRead: false, logger, metrics }),
    );
  }

  /** Answers 401/403 and returns false unless the request may do what `access` names. */
  function gate(req: IncomingMessage, res: ServerResponse, access: Access, what: string, exchange: Exchange): boolean {
    try {
      requireAccess(authOf.get(req) ?? contextFor(req).auth, access, what);
      return true;
    } catch (err) {
      sendErrorAnswer(req, res, err, { route: exchange.route, bodyRead: false, logger, metrics });
      return false;
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const exchange: Exchange = { route: UNMATCHED_ROUTE, receivedBytes: 0 };
    instrumentExchange(req, res, exchange, metrics, logger);
    if (isDataTarget(req.url)) {
      const reads = req.method === 'GET' || req.method === 'HEAD';
      if (!gate(req, res, reads ? 'reader' : 'writer', reads ? 'reading /data' : 'writing /data', exchange)) return;
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
      // The page itself is open (it asks for a token when its data answers 401); its data needs a reader.
      if (url.pathname.startsWith(UI_API_PREFIX) && !gate(req, res, 'reader', 'the dashboard', exchange)) return;
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

  const server = createWebServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS }, onRequest);
  // Every connection holds a socket and its buffers: bounded, like everything else (Node closes the ones beyond).
  server.maxConnections = MAX_API_CONNECTIONS;
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
      unwatchLeader();
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
