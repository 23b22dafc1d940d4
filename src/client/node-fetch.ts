/**
 * A `fetch` for tRPC's httpLink over node:http, so that calls go through an
 * http.Agent of ours: kept-alive connections that dial from the process's
 * own address (DESIGN.md §1), which Node's built-in fetch cannot be told.
 * The answer is read whole, up to a limit, and handed back as a Response.
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import { deadlineSignal } from '../common/deadline-signal.js';

export interface AgentFetchOptions {
  readonly agent: http.Agent;
  /** Largest answer read; a longer one fails the call. */
  readonly maxAnswerBytes: number;
  /** A call without an answer by then fails with code TIMEOUT (it may still take effect). */
  readonly timeoutMs: number;
}

/** What httpLink passes (a subset of RequestInit). */
type FetchInit = {
  readonly method?: string | undefined;
  readonly headers?: ConstructorParameters<typeof Headers>[0];
  readonly body?: unknown;
  readonly signal?: AbortSignal | null | undefined;
};

/** Why a call got no answer of ours: none in time, too long, or cut off. Carries `code` like the socket errors it stands beside. */
export class NodeFetchError extends Error {
  override readonly name = 'NodeFetchError';

  constructor(
    message: string,
    readonly code: 'TIMEOUT' | 'ANSWER_TOO_LARGE' | 'ANSWER_CUT_OFF',
  ) {
    super(message);
  }
}

function headersOf(init: FetchInit): Record<string, string> {
  return init.headers === undefined ? {} : Object.fromEntries(new Headers(init.headers).entries());
}

function bodyOf(init: FetchInit): string | Uint8Array | undefined {
  const { body } = init;
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  throw new TypeError('torua node client: only string and byte bodies are sent');
}

function responseHeaders(raw: http.IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.append(name, value);
  }
  return headers;
}

/** One answer, read whole. */
export interface AgentAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface AgentRequest {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Uint8Array | undefined;
  readonly signal?: AbortSignal | null | undefined;
}

/**
 * One exchange over the agent without the WHATWG Request/Response objects
 * (the hot path of replication uses it directly; `agentFetch` wraps it).
 * Rejects with NodeFetchError (no answer in time, too long, cut off) or the socket's error.
 */
export function agentRequest(options: AgentFetchOptions, url: URL, request: AgentRequest): Promise<AgentAnswer> {
  const { body } = request;
  const headers = { ...request.headers };
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const attempt = deadlineSignal(options.timeoutMs, [request.signal]);
    const { signal } = attempt;
    const reasonOf = (): Error =>
      attempt.timedOut()
        ? new NodeFetchError(`no answer from ${url.host} within ${options.timeoutMs} ms`, 'TIMEOUT')
        : signal.reason instanceof Error
          ? signal.reason
          : new Error('aborted');
    if (signal.aborted) {
      attempt.dispose();
      reject(reasonOf());
      return;
    }
    const req = http.request(url, { method: request.method, headers, agent: options.agent });
    // Small requests and answers must not wait for a delayed ACK (Nagle).
    req.setNoDelay(true);
    const onAbort = () => req.destroy(reasonOf());
    signal.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      attempt.dispose();
    };
    req.on('error', (err) => {
      done();
      reject(err);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxAnswerBytes) {
          req.destroy(new NodeFetchError(`answer over ${options.maxAnswerBytes} bytes from ${url.host}`, 'ANSWER_TOO_LARGE'));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        done();
        if (!res.complete) {
          reject(new NodeFetchError(`answer from ${url.host} cut off`, 'ANSWER_CUT_OFF'));
          return;
        }
        resolve({ status: res.statusCode ?? 500, headers: res.headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
      });
      res.on('error', (err) => {
        done();
        reject(err);
      });
    });
    req.end(body);
  });
}

/**
 * A fetch whose answer body streams (an event stream never ends), over an
 * agent of ours: with TLS, Node's own fetch cannot present a client
 * certificate. Only what an EventSource sends: method, headers, signal.
 */
export function streamingAgentFetch(agent: http.Agent) {
  return (input: string | URL, init: FetchInit = {}): Promise<Response> =>
    new Promise((resolve, reject) => {
      const req = http.request(new URL(String(input)), { method: init.method ?? 'GET', headers: headersOf(init), agent, ...(init.signal ? { signal: init.signal } : {}) });
      req.on('error', reject);
      req.on('response', (res) => {
        const status = res.statusCode ?? 500;
        const body = status === 204 || status === 304 ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
        resolve(new Response(body, { status, headers: responseHeaders(res.headers) }));
      });
      req.end();
    });
}

export function agentFetch(options: AgentFetchOptions) {
  return async (input: string | URL | Request, init: FetchInit = {}): Promise<Response> => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const answer = await agentRequest(options, url, { method: init.method ?? 'GET', headers: headersOf(init), body: bodyOf(init), signal: init.signal });
    // A Response may not carry a body with these statuses.
    const payload = answer.status === 204 || answer.status === 304 ? null : answer.body;
    return new Response(payload, { status: answer.status, headers: responseHeaders(answer.headers) });
  };
}
