/**
 * The HTTP server of one data node, on its `host:port` (DESIGN.md §1): the
 * node router under `/trpc`, the binary replication path `POST /peer/replicate`, the smart client's batches
 * `POST /data-batch`, the REST endpoints (health, info, metrics, the data path) everywhere else. It binds to the node's host only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createWebServer } from '../../tls/web.js';
import { peerIdentity } from '../../tls/identity.js';
import { RecoveryOpeners } from './recovery-openers.js';
import { requireAccess, type Access, type Authenticator } from '../auth/index.js';
import { sendErrorAnswer } from '../http/error-answer.js';
import type { AddressInfo } from 'node:net';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import type { DataNodeService } from '../../datanode/contract.js';
import { ClusterError, ClusterErrorCode, INTERNAL_ERROR_MESSAGE } from '../../errors/index.js';
import type { Logger, Metrics } from '../../observability/index.js';
import { describeError, isInternal } from '../coordinator/errors/describe-error.js';
import { UNMATCHED_ROUTE, type Exchange } from '../http/exchange.js';
import { instrumentExchange } from '../http/http-metrics.js';
import { sendJson } from '../http/send.js';
import { answerUnparsableRequests, TIMEOUT_CHECK_INTERVAL_MS } from '../http/client-error.js';
import type { NodeApiContext } from './context.js';
import { DEFAULT_MAX_NODE_CONNECTIONS, DEFAULT_MAX_TRPC_BODY_BYTES } from './limits.js';
import { DATA_PREFIX, requestTarget } from './request-target.js';
import { createNodeRest } from './rest.js';
import { answerReplicate, REPLICATE_PATH } from './replicate-route.js';
import { DATA_BATCH_PATH } from '../../data-wire/batch-frame.js';
import { answerDataBatch } from './data-batch-route.js';
import { dataNodeRouter } from './router.js';

export interface DataNodeServerOptions {
  /** The node's host: the server listens there only. */
  readonly host: string;
  /** 0 takes a free port (tests); `address` reports the one taken. */
  readonly port: number;
  /** Largest /trpc or /peer/replicate request body (replication batches carry values as base64 over tRPC). Default DEFAULT_MAX_TRPC_BODY_BYTES. */
  readonly maxTrpcBodyBytes?: number;
  /** Connections held at once (default DEFAULT_MAX_NODE_CONNECTIONS); one more is closed at once. */
  readonly maxConnections?: number;
  /**
   * The cluster's internal token, when it has auth: replication, recovery
   * and handoff (everything but the `info` and `health` views and the REST
   * endpoints) answer 401 without it.
   */
  readonly internalToken?: string;
  /**
   * The cluster's tokens, when it has auth: the data path `/data` then needs
   * a `reader` (GET) or `writer` (PUT, DELETE) token, or the internal token
   * (a coordinator relaying an authorised request); `/metrics` needs
   * `reader` unless the file opens it. `/health` and `/info` stay open.
   */
  readonly authenticator?: Authenticator;
}

export interface DataNodeServerModules {
  readonly service: DataNodeService;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The cluster's value limit now (it arrives with the lease grants): PUT bodies over it are refused with 413. */
  readonly maxValueBytes: () => number;
}

export interface DataNodeServer {
  /** `host:port` it listens on. */
  readonly address: string;
  readonly port: number;
  /** Stops listening and ends every connection. */
  close(): Promise<void>;
}

const TRPC_PREFIX = '/trpc';
/** The node's own views, open like its REST `/health` and `/info`. */
const OPEN_PROCEDURES = new Set(['info', 'health']);
/** Slow clients may not hold a connection open by dribbling headers; a 16 MiB body on a slow link still fits. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 60_000;

function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startDataNodeServer(options: DataNodeServerOptions, modules: DataNodeServerModules): Promise<DataNodeServer> {
  const logger = modules.logger.child({ component: 'api' });
  const { metrics } = modules;
  const maxTrpcBodyBytes = options.maxTrpcBodyBytes ?? DEFAULT_MAX_TRPC_BODY_BYTES;
  if (!Number.isSafeInteger(maxTrpcBodyBytes) || maxTrpcBodyBytes < 1) throw new RangeError(`maxTrpcBodyBytes: expected a positive integer, got ${maxTrpcBodyBytes}`);
  const context: NodeApiContext = { service: modules.service, logger, metrics, maxValueBytes: modules.maxValueBytes, maxTrpcBodyBytes, recoveryOpeners: new RecoveryOpeners() };
  const contextOf = (req: IncomingMessage): NodeApiContext => ({ ...context, peerCertificate: peerIdentity(req.socket) });

  const procedures = new Set(Object.keys(dataNodeRouter._def.procedures));
  const trpcRoute = (rawPath: string): string => {
    const path = rawPath.slice(TRPC_PREFIX.length + 1);
    if (path.includes(',')) return `${TRPC_PREFIX}/:batch`;
    return procedures.has(path) ? `${TRPC_PREFIX}/${path}` : `${TRPC_PREFIX}/${UNMATCHED_ROUTE}`;
  };

  const trpc = createHTTPHandler({
    router: dataNodeRouter,
    basePath: `${TRPC_PREFIX}/`,
    maxBodySize: maxTrpcBodyBytes,
    createContext: ({ req }) => contextOf(req),
    onError({ error, path }) {
      const failure = describeError(error);
      metrics.http.errors.inc({ code: failure.body.error.code });
      if (isInternal(failure)) logger.error('internal error answering a tRPC call', { err: error.cause ?? error, path });
    },
  });

  const rest = createNodeRest({ service: modules.service, logger, metrics, maxValueBytes: modules.maxValueBytes });

  const internalDigest = options.internalToken === undefined ? undefined : createHash('sha256').update(options.internalToken).digest();
  /** The peer and coordinator calls are the cluster's own: with auth, only a holder of the internal token makes them. */
  function refusedAsOutsider(req: IncomingMessage, res: ServerResponse, rawPath: string): boolean {
    if (internalDigest === undefined) return false;
    const path = rawPath.startsWith(`${TRPC_PREFIX}/`) ? rawPath.slice(TRPC_PREFIX.length + 1) : rawPath;
    if (OPEN_PROCEDURES.has(path)) return false;
    const header = req.headers.authorization ?? '';
    const given = createHash('sha256').update(header.startsWith('Bearer ') ? header.slice(7) : '').digest();
    if (timingSafeEqual(given, internalDigest)) return false;
    // The body is not read: the shared error answer discards it properly (answering at once with `Connection: close`
    // left its bytes to be parsed as a next request, whose 400 followed the 401 on a closing connection).
    const refusal = new ClusterError({ code: ClusterErrorCode.Unauthenticated }, `${path}: only the cluster's own processes may call this (the internal token)`);
    sendErrorAnswer(req, res, refusal, { route: UNMATCHED_ROUTE, bodyRead: false, logger, metrics });
    return true;
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const exchange: Exchange = { route: UNMATCHED_ROUTE, receivedBytes: 0 };
    instrumentExchange(req, res, exchange, metrics, logger);
    const target = requestTarget(req.url);
    const internal = target.rawPath === REPLICATE_PATH || target.rawPath === TRPC_PREFIX || target.rawPath.startsWith(`${TRPC_PREFIX}/`);
    if (internal && refusedAsOutsider(req, res, target.rawPath)) return;
    if (target.rawPath === REPLICATE_PATH) {
      void answerReplicate(req, res, exchange, contextOf(req));
      return;
    }
    if (target.rawPath === TRPC_PREFIX || target.rawPath.startsWith(`${TRPC_PREFIX}/`)) {
      exchange.route = trpcRoute(target.rawPath);
      trpc(req, res);
      return;
    }
    if (target.rawPath === DATA_BATCH_PATH) {
      if (options.authenticator === undefined) void answerDataBatch(req, res, exchange, context, undefined);
      else {
        options.authenticator
          .authenticate(req.headers.authorization)
          .then((auth) => answerDataBatch(req, res, exchange, context, auth))
          .catch((err: unknown) => sendErrorAnswer(req, res, err, { route: DATA_BATCH_PATH, bodyRead: false, logger, metrics }));
      }
      return;
    }
    const access = restAccess(req.method, target.rawPath);
    if (options.authenticator === undefined || access === 'open') {
      answerRest(req, res, target, exchange);
      return;
    }
    const what = target.rawPath === '/metrics' ? 'reading /metrics' : access === 'reader' ? 'reading /data' : 'writing /data';
    options.authenticator
      .authenticate(req.headers.authorization)
      .then((auth) => {
        requireAccess(auth, access, what);
        answerRest(req, res, target, exchange);
      })
      .catch((err: unknown) => sendErrorAnswer(req, res, err, { route: exchange.route, bodyRead: false, logger, metrics }));
  }

  /** What a REST request needs when the cluster has auth. */
  function restAccess(method: string | undefined, rawPath: string): Access {
    if (rawPath === '/metrics') return options.authenticator?.openMetrics === true ? 'open' : 'reader';
    if (rawPath !== '/data' && !rawPath.startsWith(DATA_PREFIX)) return 'open';
    return method === 'GET' || method === 'HEAD' ? 'reader' : 'writer';
  }

  function answerRest(req: IncomingMessage, res: ServerResponse, target: ReturnType<typeof requestTarget>, exchange: Exchange): void {
    rest.handle(req, res, target, exchange).catch((err: unknown) => {
      // handle() answers every error itself; this is the last guard against a crash on bad input.
      logger.error('REST handler failed', { err });
      if (!res.headersSent) sendJson(res, 500, { error: { code: ClusterErrorCode.Internal, message: INTERNAL_ERROR_MESSAGE } });
      else res.destroy();
    });
  }

  // noDelay: an answer written in two parts (headers, then a chunked end) must not wait for a delayed ACK.
  const server = createWebServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS, noDelay: true }, onRequest);
  answerUnparsableRequests(server);
  server.maxConnections = options.maxConnections ?? DEFAULT_MAX_NODE_CONNECTIONS;
  const port = await listen(server, options.host, options.port);
  const address = `${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  logger.info('data node API listening', { address });

  let closing: Promise<void> | undefined;
  return {
    address,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Idle keep-alive connections of peers would hold close() for seconds.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
