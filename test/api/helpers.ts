/** Servers on 127.0.0.1 port 0, closed after each test, and deadline-bounded waiting. */
import http from 'node:http';
import { TRPCError } from '@trpc/server';
import { afterEach, expect } from 'vitest';
import { createCoordinatorApiServer, type CoordinatorApiServerOptions } from '../../src/api/coordinator/index.js';
import type { CoordinatorService } from '../../src/coordinator/service.js';
import { ClusterError } from '../../src/errors/index.js';

const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

export interface RunningServer {
  readonly port: number;
  readonly url: string;
  readonly address: string;
  close(): Promise<void>;
}

export async function startServer(service: CoordinatorService, options: Partial<CoordinatorApiServerOptions> = {}): Promise<RunningServer> {
  const server = createCoordinatorApiServer({ service, host: '127.0.0.1', port: 0, ...options });
  open.push(server);
  const { port } = await server.start();
  return { port, url: `http://127.0.0.1:${port}`, address: `127.0.0.1:${port}`, close: () => server.close() };
}

export { waitFor } from '../support/wait-for.js';

export interface RawAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: any;
}

/**
 * One HTTP request exactly. Node's fetch (undici) repeats a request that got
 * 421 on a fresh connection, as RFC 9110 allows; tests that count calls use this.
 */
export function rawRequest(url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...(text === undefined ? {} : { 'content-type': 'application/json' }), ...headers } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data === '' ? undefined : JSON.parse(data) }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** The domain error a call failed with (the routers throw TRPCErrors whose cause is it). */
export async function failure(call: Promise<unknown>): Promise<{ trpcCode: string; error: ClusterError }> {
  try {
    await call;
  } catch (err) {
    expect(err).toBeInstanceOf(TRPCError);
    const cause = (err as TRPCError).cause;
    expect(cause).toBeInstanceOf(ClusterError);
    return { trpcCode: (err as TRPCError).code, error: cause as ClusterError };
  }
  throw new Error('expected the call to fail');
}
