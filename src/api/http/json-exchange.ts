/**
 * One bounded HTTP exchange with a peer (another replica, a data node) that
 * answers JSON: plain node:http so that the connection dials from this
 * replica's own host (DESIGN.md §1), a deadline, and a cap on the answer's
 * size. It never throws: the caller turns each outcome into its own error.
 */
import http from 'node:http';
import { sharedAgent } from '../../tls/web.js';
import { readBody } from './read-body.js';

export interface JsonExchange {
  readonly method: 'GET' | 'POST';
  /** `webOrigin(host:port)` + path: http or https, as the process is set up. */
  readonly url: string;
  readonly body?: string;
  readonly headers?: http.OutgoingHttpHeaders;
  readonly localAddress?: string | undefined;
  readonly timeoutMs: number;
  readonly maxAnswerBytes: number;
}

export type JsonOutcome =
  /** `json` is undefined when the body is not JSON. */
  | { readonly kind: 'answer'; readonly statusCode: number; readonly json: unknown }
  | { readonly kind: 'timeout' }
  /** No answer (refused, reset) or an answer over the cap; `why` in a few words. */
  | { readonly kind: 'failed'; readonly why: string };

export function exchangeJson(x: JsonExchange): Promise<JsonOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (o: JsonOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const headers: http.OutgoingHttpHeaders = {
      Accept: 'application/json',
      ...(x.body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(x.body) }),
      ...x.headers,
    };
    const req = http.request(x.url, { method: x.method, localAddress: x.localAddress, headers, agent: sharedAgent(x.localAddress) });
    const timer = setTimeout(() => {
      settle({ kind: 'timeout' });
      req.destroy();
    }, x.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => settle({ kind: 'failed', why: err.code ?? err.message }));
    req.on('response', (res) => {
      readBody(res, x.maxAnswerBytes).then(
        (raw) => {
          let json: unknown;
          try {
            json = JSON.parse(raw.toString('utf8'));
          } catch {
            json = undefined;
          }
          settle({ kind: 'answer', statusCode: res.statusCode ?? 0, json });
        },
        (err: unknown) => settle({ kind: 'failed', why: err instanceof Error ? err.message : String(err) }),
      );
    });
    req.end(x.body);
  });
}
