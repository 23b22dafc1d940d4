/**
 * `createNodeClient`: a typed tRPC client of one data node's router
 * (replication, recovery, handoff, info, health). Every call is one HTTP
 * request (httpLink: no batching, no retries) over a kept-alive connection
 * that dials from `localAddress`. Clients are cached per address and options.
 */
import http from 'node:http';
import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import type { DataNodeRouter } from '../api/datanode/index.js';
import { parseAddress } from './addresses.js';
import { agentFetch } from './node-fetch.js';

export type NodeClient = TRPCClient<DataNodeRouter>;

export interface NodeClientOptions {
  /** Dial from this address: the calling process's own host (DESIGN.md §1). */
  readonly localAddress?: string;
  /** One call's bound, answer included. Default DEFAULT_NODE_CALL_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

/** Longer than a replica's synced write of a full batch, shorter than a lease. */
export const DEFAULT_NODE_CALL_TIMEOUT_MS = 5_000;

/** A recovery page or a batch acknowledgement; pages carry values as base64, up to the node's /trpc limit and then some. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** Connections kept to one node: replication to it is sequential per shard, so a few per shard it shares with us. */
const MAX_SOCKETS_PER_NODE = 64;

const clients = new Map<string, { client: NodeClient; agent: http.Agent }>();

export function createNodeClient(address: string, opts: NodeClientOptions = {}): NodeClient {
  const { origin, address: canonical } = parseAddress(address);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_NODE_CALL_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 1) throw new TypeError(`torua node client: timeoutMs: expected a number ≥ 1, got ${String(timeoutMs)}`);
  const cacheKey = `${canonical}|${opts.localAddress ?? ''}|${timeoutMs}`;
  const cached = clients.get(cacheKey);
  if (cached !== undefined) return cached.client;
  const agent = new http.Agent({
    keepAlive: true,
    maxSockets: MAX_SOCKETS_PER_NODE,
    ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }),
  });
  const client = createTRPCClient<DataNodeRouter>({
    links: [httpLink({ url: `${origin}/trpc`, fetch: agentFetch({ agent, maxAnswerBytes: MAX_ANSWER_BYTES, timeoutMs }) })],
  });
  clients.set(cacheKey, { client, agent });
  return client;
}

/** Forgets every cached client and closes its connections (a process that stops, tests). */
export function closeNodeClients(): void {
  for (const { agent } of clients.values()) agent.destroy();
  clients.clear();
}
