/** One plain tRPC client per replica address, for the client's own questions (health, leader address). */
import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import type { AppRouter } from '../api/coordinator/index.js';
import { parseAddress } from './addresses.js';
import { processTls } from '../tls/process-tls.js';
import { DEFAULT_TIMEOUT_MS, replicaFetch, type LinkFetch } from './options.js';

export type ReplicaClient = TRPCClient<AppRouter>;

/** A client that talks to exactly one replica: no retries, no leader-following. */
export function createReplicaClient(address: string, given?: LinkFetch, headers: Readonly<Record<string, string>> = {}): ReplicaClient {
  // Node's own fetch cannot present a client certificate: with TLS, calls go through an agent of ours.
  const fetch = given ?? (processTls() === undefined ? undefined : replicaFetch(undefined, DEFAULT_TIMEOUT_MS));
  const url = `${parseAddress(address).origin}/trpc`;
  // httpLink, not httpBatchLink: calls here are single and a batch link waits a timer tick for company.
  return createTRPCClient<AppRouter>({ links: [httpLink(fetch === undefined ? { url, headers } : { url, fetch, headers })] });
}

export class ReplicaClients {
  private readonly clients = new Map<string, ReplicaClient>();

  constructor(
    private readonly fetch?: LinkFetch,
    private readonly headers: Readonly<Record<string, string>> = {},
  ) {}

  get(address: string): ReplicaClient {
    let client = this.clients.get(address);
    if (client === undefined) {
      client = createReplicaClient(address, this.fetch, this.headers);
      this.clients.set(address, client);
    }
    return client;
  }
}
