/** Minimal HTTP/JSON client for the bench: keep-alive agents, a hard timeout per request; HTTPS with a client certificate while `setBenchTls` says so. */
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { withoutNagle } from '../../src/tls/web.js';

export interface BenchCredentials {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

let credentials: BenchCredentials | undefined;

/** Requests and agents made from now on use TLS with these (undefined: plain HTTP again). */
export function setBenchTls(c: BenchCredentials | undefined): void {
  credentials = c;
}

export interface Answer {
  /** 0 when there was no answer (refused, reset, timed out). */
  readonly status: number;
  readonly text: string;
}

const contexts = new WeakMap<BenchCredentials, tls.SecureContext>();

/**
 * TLS options for a request or agent: one secure context per certificate,
 * as the torua clients do (given ca/cert/key instead, every connection would
 * parse them again, and an agent would stringify them to name its pool on
 * every request: costs of this client, not of TLS).
 */
function tlsOptions(c: BenchCredentials): tls.ConnectionOptions {
  let secureContext = contexts.get(c);
  if (secureContext === undefined) {
    secureContext = tls.createSecureContext({ ...c, minVersion: 'TLSv1.3' });
    contexts.set(c, secureContext);
  }
  return { secureContext, rejectUnauthorized: true };
}

export function keepAliveAgent(maxSockets = 256): http.Agent {
  const options = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' as const };
  return credentials === undefined ? new http.Agent(options) : withoutNagle(new https.Agent({ ...options, ...tlsOptions(credentials) }));
}

export function request(
  agent: http.Agent | false,
  host: string,
  port: number,
  method: string,
  urlPath: string,
  body: unknown,
  timeoutMs: number,
  /** Another certificate than the bench's own for this one request (a node's, to register it). */
  as: BenchCredentials | undefined = credentials,
): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve) => {
    let done = false;
    const finish = (a: Answer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(a);
    };
    const req = (as === undefined ? http : https).request({
      ...(as === undefined ? {} : tlsOptions(as)),
      host,
      port,
      method,
      path: urlPath,
      agent,
      headers: payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish({ status: 0, text: 'timeout' });
    }, timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => finish({ status: 0, text: e.code ?? e.message }));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => finish({ status: 0, text: e.message }));
      res.on('end', () => finish({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.end(payload);
  });
}

export function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
