/**
 * One plain HTTP exchange with a data node (or a coordinator's `/data`):
 * node:http over a keep-alive agent, no tRPC, since this is the hot path.
 * It never throws: a request that got no answer says why, so the caller's
 * retry loop branches on a value rather than on caught exceptions.
 */
import http from 'node:http';
import { describeTransportFailure } from './transport-failure.js';
import type { CertRole } from '../tls/identity.js';
import { createClientAgent, webProtocol } from '../tls/web.js';

export interface HttpTarget {
  /** Without IPv6 brackets, as node:http wants it. */
  readonly host: string;
  readonly port: number;
}

/** The target of an address `host:port` (`[v6]:port`); undefined for anything else. */
export function httpTargetOf(address: string): HttpTarget | undefined {
  const at = address.lastIndexOf(':');
  const port = Number(address.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port };
}

export type RawResult =
  | { readonly kind: 'answer'; readonly status: number; readonly body: Buffer }
  /** A 2xx answer whose body exceeds the limit: refused unread. */
  | { readonly kind: 'too-large'; readonly status: number; readonly limitBytes: number }
  | { readonly kind: 'no-answer'; readonly reason: string; readonly timedOut: boolean };

export interface RawRequest {
  readonly method: 'GET' | 'PUT' | 'DELETE' | 'POST';
  /** Path and query, already percent-encoded. */
  readonly path: string;
  readonly body?: Uint8Array;
  /** The body's type (default application/octet-stream). */
  readonly contentType?: string;
  readonly timeoutMs: number;
  /** Credentials for the node (`Authorization` header), when the cluster has auth. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Most bytes of a 2xx body (a value). */
  readonly maxBodyBytes: number;
}

/** An error body is a few hundred bytes; a longer one is cut here (the status still counts). */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/** `expect`: the certificate roles the servers may have (with TLS); data nodes unless said otherwise. */
export function createKvAgent(maxSockets: number, localAddress: string | undefined, expect: readonly CertRole[] = ['node']): http.Agent {
  return createClientAgent({
    expect,
    keepAlive: true,
    maxSockets,
    maxFreeSockets: maxSockets,
    // The most recently used socket first: the fewest connections stay warm, and fewer meet a server's idle timeout.
    scheduling: 'lifo',
    ...(localAddress === undefined ? {} : { localAddress }),
  });
}

export function sendRaw(agent: http.Agent, target: HttpTarget, request: RawRequest, localAddress?: string): Promise<RawResult> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (result: RawResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(result);
    };
    const body = request.body;
    const req = http.request({
      protocol: webProtocol(),
      host: target.host,
      port: target.port,
      method: request.method,
      path: request.path,
      agent,
      ...(localAddress === undefined ? {} : { localAddress }),
      headers: { ...request.headers, ...(body === undefined ? {} : { 'content-type': request.contentType ?? 'application/octet-stream', 'content-length': body.byteLength }) },
    });
    // A request is one small write and its answer one small read: never wait for a delayed ACK (Nagle).
    req.setNoDelay(true);
    const timer = setTimeout(() => {
      finish({ kind: 'no-answer', reason: `no answer within ${request.timeoutMs} ms`, timedOut: true });
      req.destroy();
    }, request.timeoutMs);
    req.on('error', (err) => finish({ kind: 'no-answer', reason: describeTransportFailure(err), timedOut: false }));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const success = status >= 200 && status < 300;
      const limit = success ? request.maxBodyBytes : MAX_ERROR_BODY_BYTES;
      const declared = Number(res.headers['content-length']);
      if (success && declared > limit) {
        finish({ kind: 'too-large', status, limitBytes: limit });
        res.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= limit) chunks.push(chunk);
        else if (success) {
          finish({ kind: 'too-large', status, limitBytes: limit });
          res.destroy();
        } else {
          finish({ kind: 'answer', status, body: Buffer.concat(chunks) });
          res.destroy();
        }
      });
      res.on('error', (err) => finish({ kind: 'no-answer', reason: describeTransportFailure(err), timedOut: false }));
      res.on('close', () => {
        if (!res.complete) finish({ kind: 'no-answer', reason: 'connection closed mid-answer', timedOut: false });
      });
      res.on('end', () => finish({ kind: 'answer', status, body: chunks.length === 1 ? (chunks[0] as Buffer) : chunks.length === 0 ? EMPTY : Buffer.concat(chunks) }));
    });
    req.end(body);
  });
}
