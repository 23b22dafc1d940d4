/**
 * `GET/PUT/DELETE /data/<key>` on every coordinator (DESIGN.md §6, §7): the
 * request goes on to the primary of the key's shard, as this replica's table
 * names it, and the primary's answer comes back as it is (200 with the raw
 * value, 204, or the node's error with its code and status).
 *
 * When the table was out of date (the node answers STALE_EPOCH or
 * NOT_PRIMARY, or does not answer at all), the table is read again
 * linearizably and the request retried, a few times at most. The data path
 * stays lean: no tRPC, no schema on the body, the value streamed back.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import type { CoordinatorService } from '../../../coordinator/service.js';
import { ClusterError, ClusterErrorCode } from '../../../errors/index.js';
import type { Logger, Metrics } from '../../../observability/index.js';
import { dataKeyOf, requestTarget, DATA_PREFIX } from '../../datanode/request-target.js';
import { sendErrorAnswer } from '../../http/error-answer.js';
import { HttpError, HttpErrorCode } from '../errors/http-error.js';
import type { Exchange } from '../../http/exchange.js';
import { hasBody } from '../../http/json-body.js';
import { readBody } from '../../http/read-body.js';
import { requestMethod } from '../../http/route-match.js';
import { sleep } from '../../../common/backoff.js';
import { checkQuery } from '../rest-input.js';
import { exchangeWithNode, type NodeExchange, type NodeRequest } from './node-exchange.js';
import { primaryRoute } from './primary-route.js';
import { createClientAgent } from '../../../tls/web.js';

export interface DataHandlerOptions {
  /** Outgoing connections dial from this address. */
  readonly localAddress?: string | undefined;
  /** One exchange with a node, answer included (default 10 s: a write waits for its replicas). */
  readonly timeoutMs?: number;
  /** Connections kept to each node (default 128). */
  readonly maxSocketsPerNode?: number;
  /** Shown to the nodes (`Bearer <internal token>` when the cluster has auth). */
  readonly authorization?: string | undefined;
}

export interface DataHandlerModules {
  readonly service: CoordinatorService;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export interface DataHandler {
  handle(req: IncomingMessage, res: ServerResponse, exchange: Exchange): Promise<void>;
  /** Closes the connections kept to the nodes. */
  close(): void;
}

export const DATA_ROUTE = '/data/*key';
const METHODS = ['GET', 'PUT', 'DELETE'] as const;
const MAX_ATTEMPTS = 3;
/** Before the second and third attempt: long enough for a commit to apply, short for a client. */
const BACKOFF_MS: readonly number[] = [10, 50];
const LAST_BACKOFF_MS = 50;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_SOCKETS = 128;

/** Whether a request target is the data path's (decided on the raw target: URL parsing would resolve `..` in keys). */
export function isDataTarget(url: string | undefined): boolean {
  const { rawPath } = requestTarget(url);
  return rawPath === '/data' || rawPath.startsWith(DATA_PREFIX);
}

/** The node's answers after which a fresher table may route elsewhere. */
function retryable(answer: NodeExchange): boolean {
  if (answer.kind === 'unreachable') return true;
  return answer.kind === 'error' && (answer.code === ClusterErrorCode.StaleEpoch || answer.code === ClusterErrorCode.NotPrimary);
}

function methodOf(req: IncomingMessage): NodeRequest['method'] {
  const method = requestMethod(req);
  const known = METHODS.find((m) => m === method);
  if (known === undefined) {
    throw new HttpError(HttpErrorCode.MethodNotAllowed, `${method} is not allowed on /data/<key> (allowed: ${METHODS.join(', ')})`, { allowed: [...METHODS] });
  }
  return known;
}

export function createDataHandler(opts: DataHandlerOptions, modules: DataHandlerModules): DataHandler {
  const { service, logger, metrics } = modules;
  const agent = createClientAgent({ keepAlive: true, maxSockets: opts.maxSocketsPerNode ?? DEFAULT_MAX_SOCKETS, expect: ['node'] });
  const exchangeOptions = { agent, localAddress: opts.localAddress, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, authorization: opts.authorization };

  /** Sends the request to the primary, re-reading the table and retrying when it was out of date; the last answer wins. */
  async function forward(method: NodeRequest['method'], key: string, body: Buffer | undefined): Promise<NodeExchange> {
    let state = (await service.read('stale')).state;
    let answer: NodeExchange | undefined;
    for (let attempt = 1; ; attempt++) {
      let route;
      try {
        route = primaryRoute(state, key);
      } catch (e) {
        // A follower's table may be behind the leader's: one fresh look before answering "no primary".
        if (attempt > 1 || !(e instanceof ClusterError)) throw e;
        state = (await service.read('linearizable')).state;
        route = primaryRoute(state, key);
      }
      answer = await exchangeWithNode({ address: route.address, method, key, epoch: route.epoch, body }, exchangeOptions);
      if (!retryable(answer) || attempt >= MAX_ATTEMPTS) return answer;
      logger.debug('data request retried on a fresh table', {
        shard: route.shard,
        primary: route.primary,
        epoch: route.epoch,
        attempt,
        answer: answer.kind === 'error' ? answer.code : answer.kind === 'unreachable' ? answer.why : answer.kind,
      });
      await sleep(BACKOFF_MS[attempt - 1] ?? LAST_BACKOFF_MS);
      state = (await service.read('linearizable')).state;
    }
  }

  function relay(res: ServerResponse, answer: NodeExchange, headers: Record<string, string>): void {
    if (answer.kind === 'unreachable') throw new ClusterError({ code: ClusterErrorCode.Unavailable, reason: `primary unreachable: ${answer.why}`, retryAfterMs: 100 }, `the primary could not be reached: ${answer.why}`);
    if (answer.kind === 'error') {
      if (answer.code !== undefined) metrics.http.errors.inc({ code: answer.code });
      res.writeHead(answer.status, { ...headers, 'Content-Type': answer.contentType, 'Content-Length': answer.body.length, 'Cache-Control': 'no-store' });
      res.end(answer.body);
      return;
    }
    const from = answer.res;
    const length = from.headers['content-length'];
    res.writeHead(from.statusCode ?? 200, {
      ...headers,
      ...(from.statusCode === 204 ? {} : { 'Content-Type': from.headers['content-type'] ?? 'application/octet-stream' }),
      ...(length === undefined ? {} : { 'Content-Length': length }),
      'Cache-Control': 'no-store',
    });
    // A node that fails mid-answer cuts the client's answer off too: a partial value must not look whole.
    pipeline(from, res, (err) => {
      if (err) logger.debug('data answer cut off', { error: err.message });
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, exchange: Exchange): Promise<void> {
    exchange.route = DATA_ROUTE;
    let bodyRead = false;
    try {
      const method = methodOf(req);
      const target = requestTarget(req.url);
      const key = dataKeyOf(target.rawPath === '/data' ? DATA_PREFIX : target.rawPath);
      // `?stale` and `?epoch` are the smart client's business: this route routes by the table itself.
      checkQuery(target.query, []);
      let body: Buffer | undefined;
      if (method === 'PUT') {
        body = await readBody(req, (await service.read('stale')).state.config.settings.maxValueBytes);
        bodyRead = true;
        exchange.receivedBytes = body.length;
      }
      const answer = await forward(method, key, body);
      // A body this route does not read is not drained: the connection closes after the answer.
      relay(res, answer, !bodyRead && hasBody(req) ? { Connection: 'close' } : {});
    } catch (err) {
      sendErrorAnswer(req, res, err, { route: DATA_ROUTE, bodyRead, logger, metrics });
    }
  }

  return { handle, close: () => agent.destroy() };
}
