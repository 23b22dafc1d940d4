/**
 * `createNodeClient`: a typed tRPC client of one data node's router
 * (replication, recovery, handoff, info, health). Every call is one HTTP
 * request (httpLink: no batching, no retries) over a kept-alive connection
 * that dials from `localAddress`. Clients are cached per address and options.
 * `postToNode` sends raw bytes over the same connections (the binary
 * replication path), without tRPC's envelope.
 */
import http from 'node:http';
import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import type { DataNodeRouter } from '../api/datanode/index.js';
import { parseAddress } from './addresses.js';
import { agentFetch, agentRequest, type AgentAnswer } from './node-fetch.js';
import { createClientAgent } from '../tls/web.js';
import { authorizationHeaders } from './options.js';

export type NodeClient = TRPCClient<DataNodeRouter>;

export interface NodeClientOptions {
  /** Dial from this address: the calling process's own host (DESIGN.md §1). */
  readonly localAddress?: string;
  /** One call's bound, answer included. Default DEFAULT_NODE_CALL_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** The cluster's internal token, when it has auth: a node's replication, recovery and handoff calls need it. */
  readonly token?: string | undefined;
}

/** Longer than a replica's synced write of a full batch, shorter than a lease. */
export const DEFAULT_NODE_CALL_TIMEOUT_MS = 5_000;

/** A recovery page or a batch acknowledgement; pages carry values as base64, up to the node's /trpc limit and then some. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** Connections kept to one node: replication to it is sequential per shard, so a few per shard it shares with us. */
const MAX_SOCKETS_PER_NODE = 64;

interface CachedNode {
  readonly client: NodeClient;
  readonly agent: http.Agent;
  readonly origin: string;
  readonly timeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
}

const clients = new Map<string, CachedNode>();

function cachedNode(address: string, opts: NodeClientOptions): CachedNode {
  const { origin, address: canonical } = parseAddress(address);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_NODE_CALL_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 1) throw new TypeError(`torua node client: timeoutMs: expected a number ≥ 1, got ${String(timeoutMs)}`);
  const cacheKey = `${canonical}|${opts.localAddress ?? ''}|${timeoutMs}|${opts.token ?? ''}`;
  const cached = clients.get(cacheKey);
  if (cached !== undefined) return cached;
  // Replication, recovery and handoff are answered by data nodes only.
  const agent = createClientAgent({
    expect: ['node'],
    keepAlive: true,
    maxSockets: MAX_SOCKETS_PER_NODE,
    ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }),
  });
  const headers = authorizationHeaders(opts.token);
  const client = createTRPCClient<DataNodeRouter>({
    links: [httpLink({ url: `${origin}/trpc`, headers, fetch: agentFetch({ agent, maxAnswerBytes: MAX_ANSWER_BYTES, timeoutMs }) })],
  });
  const node = { client, agent, origin, timeoutMs, headers };
  clients.set(cacheKey, node);
  return node;
}

export function createNodeClient(address: string, opts: NodeClientOptions = {}): NodeClient {
  return cachedNode(address, opts).client;
}

/**
 * POSTs `body` to `path` of the node at `address` and reads the answer
 * whole (any status: the caller reads error bodies). Rejects only when no
 * answer came (NodeFetchError TIMEOUT, or the socket's error).
 */
export function postToNode(address: string, path: string, body: Uint8Array, contentType: string, opts: NodeClientOptions = {}, signal?: AbortSignal): Promise<AgentAnswer> {
  const node = cachedNode(address, opts);
  return agentRequest({ agent: node.agent, maxAnswerBytes: MAX_ANSWER_BYTES, timeoutMs: node.timeoutMs }, new URL(path, node.origin), {
    method: 'POST',
    headers: { 'content-type': contentType, ...node.headers },
    body,
    signal,
  });
}

/** Forgets every cached client and closes its connections (a process that stops, tests). */
export function closeNodeClients(): void {
  for (const { agent } of clients.values()) agent.destroy();
  clients.clear();
}
