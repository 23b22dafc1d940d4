/**
 * One webhook POST over node:http(s): JSON body, bounded by a timeout and an
 * abort signal, dialling from the replica's own address (DESIGN.md §1). Any
 * 2xx answer is a delivery; anything else, a connection error or the
 * timeout is a failure whose message says which. Redirects are not followed.
 */
import http from 'node:http';
import https from 'node:https';

export interface WebhookRequest {
  readonly url: string;
  readonly body: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Dial from this address (http only: a TLS receiver is usually not on a loopback alias). */
  readonly localAddress?: string | undefined;
}

/** Resolves once the receiver answered 2xx; rejects with an Error that says why not. */
export type WebhookPost = (req: WebhookRequest) => Promise<void>;

export const postWebhook: WebhookPost = (req) =>
  new Promise<void>((resolve, reject) => {
    const url = new URL(req.url);
    const secure = url.protocol === 'https:';
    let settled = false;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.signal.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    const request = (secure ? https : http).request(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(req.body), 'User-Agent': 'torua-coordinator' },
      ...(secure || req.localAddress === undefined ? {} : { localAddress: req.localAddress }),
    });
    const fail = (why: string) => {
      settle(new Error(why));
      request.destroy();
    };
    const timer = setTimeout(() => fail(`no answer within ${req.timeoutMs} ms`), req.timeoutMs);
    const onAbort = () => fail('aborted (this replica stopped leading or is closing)');
    if (req.signal.aborted) {
      onAbort();
      return;
    }
    req.signal.addEventListener('abort', onAbort, { once: true });
    request.on('error', (err: NodeJS.ErrnoException) => settle(new Error(err.code ?? err.message)));
    request.on('response', (res) => {
      // The answer's body means nothing to us; read it away so the connection can be reused.
      res.resume();
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) settle();
      else settle(new Error(`answered HTTP ${status}`));
    });
    request.end(req.body);
  });
