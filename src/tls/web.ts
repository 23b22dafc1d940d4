/**
 * How every HTTP server and client of a process is made: plain HTTP when
 * the process has no certificates, HTTPS with mutual TLS 1.3 when it has
 * (processTls). Callers name what they make; these decide how.
 */
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { peerCertificate, type CertRole } from './identity.js';
import { processTls } from './process-tls.js';
import type { TlsSource } from './tls-source.js';

/** `https://address` with certificates, `http://address` without. */
export function webOrigin(address: string, source: TlsSource | undefined = processTls()): string {
  return `${source === undefined ? 'http' : 'https'}://${address}`;
}

/**
 * An HTTP server, or with certificates an HTTPS server that only completes
 * handshakes with certificates of this cluster's CA and id (another
 * cluster's certificate is cut off before any request is read). Its
 * certificate follows the source's reloads.
 */
export function createWebServer(options: http.ServerOptions, onRequest: http.RequestListener, source: TlsSource | undefined = processTls()): http.Server {
  if (source === undefined) return http.createServer(options, onRequest);
  const server = https.createServer({ ...options, ...source.serverOptions() }, onRequest);
  server.on('secureConnection', (socket: TLSSocket) => {
    const why = source.refusal(peerCertificate(socket));
    if (why !== undefined) socket.destroy();
  });
  const unsubscribe = source.onChange(() => server.setSecureContext(source.serverOptions()));
  server.once('close', unsubscribe);
  return server as unknown as http.Server;
}

export interface ClientAgentOptions extends http.AgentOptions {
  /** The roles the server's certificate may have (e.g. only coordinators grant leases); any role when unset. */
  readonly expect?: readonly CertRole[];
}

/**
 * A keep-alive agent for outgoing calls: plain, or presenting this
 * process's certificate and checking the server's. Requests through it
 * must use `webOrigin` URLs.
 */
export function createClientAgent(options: ClientAgentOptions, source: TlsSource | undefined = processTls()): http.Agent {
  const { expect, ...agentOptions } = options;
  if (source === undefined) return new http.Agent(agentOptions);
  const agent = new https.Agent({ ...agentOptions, ...source.clientOptions(expect) });
  withoutNagle(agent);
  // Connections made after a reload present the new certificate; idle ones are closed so that the next
  // request dials anew, busy ones keep theirs until they close.
  source.onChange(() => {
    Object.assign(agent.options, source.clientOptions(expect));
    for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
  });
  return agent;
}

/**
 * tls.connect ignores `noDelay` (a plain agent's sockets get it): without
 * this, a request or answer written in more than one TLS record waits for
 * the peer's delayed ACK (Nagle), milliseconds per exchange.
 */
export function withoutNagle(agent: https.Agent): https.Agent {
  const create = agent.createConnection.bind(agent) as (...args: unknown[]) => import('node:net').Socket | undefined;
  agent.createConnection = ((...args: unknown[]) => {
    const socket = create(...args);
    socket?.setNoDelay(true);
    return socket;
  }) as typeof agent.createConnection;
  return agent;
}

/** `https:` with certificates, `http:` without: what a request given as options (not a URL) must name to go through a `createClientAgent` agent. */
export function webProtocol(source: TlsSource | undefined = processTls()): 'http:' | 'https:' {
  return source === undefined ? 'http:' : 'https:';
}

const shared = new Map<string, { readonly source: TlsSource | undefined; readonly agent: http.Agent }>();

/**
 * One kept-alive agent per source address for a process's occasional calls
 * (forwarding to the leader, status and health reads): with TLS a handshake
 * per call would cost more than the call.
 */
export function sharedAgent(localAddress: string | undefined): http.Agent {
  const source = processTls();
  const key = localAddress ?? '';
  const cached = shared.get(key);
  if (cached !== undefined && cached.source === source) return cached.agent;
  cached?.agent.destroy();
  const agent = createClientAgent({ keepAlive: true, maxSockets: 32, ...(localAddress === undefined ? {} : { localAddress }) }, source);
  shared.set(key, { source, agent });
  return agent;
}
