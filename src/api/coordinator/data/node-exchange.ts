/**
 * One data request sent on to a shard's primary: `GET/PUT/DELETE
 * http://<primary>/data/<key>?epoch=<epoch>` on a keep-alive connection that
 * dials from this coordinator's host. A success is handed back unread, so
 * that the value streams through; an error answer is read (it is small) so
 * that the caller can tell the retryable ones apart.
 */
import http, { type IncomingMessage } from 'node:http';
import { ClusterError, ClusterErrorCode } from '../../../errors/index.js';
import { readBody } from '../../http/read-body.js';
import { webOrigin } from '../../../tls/web.js';

export interface NodeRequest {
  readonly address: string;
  readonly method: 'GET' | 'PUT' | 'DELETE';
  readonly key: string;
  readonly epoch: number;
  readonly body?: Buffer | undefined;
}

export type NodeExchange =
  /** 2xx: the answer, its body not yet read. */
  | { readonly kind: 'success'; readonly res: IncomingMessage }
  /** An error answer, read whole; `code` is its `{error: {code}}` if it has one. */
  | { readonly kind: 'error'; readonly status: number; readonly contentType: string; readonly body: Buffer; readonly code: string | undefined }
  /** No answer at all (refused, reset, unreachable): nothing is known to have happened. */
  | { readonly kind: 'unreachable'; readonly why: string };

export interface NodeExchangeOptions {
  readonly agent: http.Agent;
  readonly localAddress?: string | undefined;
  readonly timeoutMs: number;
  /** Sent to the node (the internal token, when the cluster has auth: this replica has already checked the caller's role). */
  readonly authorization?: string | undefined;
}

/** Error answers are `{error: {code, message}}`; anything longer is not one of ours. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

function errorCodeOf(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === 'string' ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resolves with what the node answered; rejects with TIMEOUT when it did not
 * answer in time (not retried: a write may still take effect). On success the
 * timeout keeps running until the answer's body has ended.
 */
export function exchangeWithNode(req: NodeRequest, options: NodeExchangeOptions): Promise<NodeExchange> {
  const path = `/data/${encodeURIComponent(req.key)}?epoch=${req.epoch}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    // The path is passed apart from the URL: as part of a URL string its dot
    // segments would be resolved, and the key `..` would become the path `/`.
    const outgoing = http.request(webOrigin(req.address), {
      path,
      method: req.method,
      agent: options.agent,
      localAddress: options.localAddress,
      headers: {
        ...(options.authorization === undefined ? {} : { Authorization: options.authorization }),
        ...(req.body === undefined ? {} : { 'Content-Type': 'application/octet-stream', 'Content-Length': req.body.length }),
      },
    });
    const timer = setTimeout(() => {
      settle(() =>
        reject(
          new ClusterError(
            { code: ClusterErrorCode.Timeout, operation: `${req.method} of a key on ${req.address}`, timeoutMs: options.timeoutMs },
            `the primary at ${req.address} did not answer ${req.method} within ${options.timeoutMs} ms; a write may still take effect`,
          ),
        ),
      );
      outgoing.destroy();
    }, options.timeoutMs);
    outgoing.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      settle(() => resolve({ kind: 'unreachable', why: err.code ?? err.message }));
    });
    outgoing.on('response', (res) => {
      const status = res.statusCode ?? 502;
      if (status < 400) {
        res.once('close', () => clearTimeout(timer));
        settle(() => resolve({ kind: 'success', res }));
        return;
      }
      readBody(res, MAX_ERROR_BODY_BYTES).then(
        (body) => {
          clearTimeout(timer);
          settle(() => resolve({ kind: 'error', status, contentType: res.headers['content-type'] ?? 'application/json', body, code: errorCodeOf(body) }));
        },
        (err: unknown) => {
          clearTimeout(timer);
          res.destroy();
          settle(() => resolve({ kind: 'unreachable', why: `HTTP ${status} with an unreadable body (${err instanceof Error ? err.message : String(err)})` }));
        },
      );
    });
    outgoing.end(req.body);
  });
}
