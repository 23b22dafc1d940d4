/**
 * Asking replicas for their own view (`cluster.health`, answered locally
 * without Raft): what leader discovery, `torua status` and `torua cluster
 * up` build on. A probe never throws: a replica that does not answer in
 * time is reported with the reason.
 */
import type { ReplicaHealth } from '../api/coordinator/index.js';
import { parseAddresses } from './addresses.js';
import { deadlineSignal } from '../common/deadline-signal.js';
import { describeClientError } from './errors.js';
import { errorDataOf, describeTransportFailure } from './failure.js';
import { ReplicaClients, type ReplicaClient } from './replica-clients.js';

export type ReplicaProbe =
  | { readonly address: string; readonly ok: true; readonly health: ReplicaHealth; readonly latencyMs: number }
  | { readonly address: string; readonly ok: false; readonly error: string };

export const DEFAULT_PROBE_TIMEOUT_MS = 1_000;

export async function probeReplica(client: ReplicaClient, address: string, timeoutMs: number): Promise<ReplicaProbe> {
  const started = performance.now();
  const attempt = deadlineSignal(timeoutMs);
  try {
    const health = await client.cluster.health.query(undefined, { signal: attempt.signal });
    return { address, ok: true, health, latencyMs: performance.now() - started };
  } catch (err) {
    const error = attempt.timedOut()
      ? `no answer within ${timeoutMs} ms`
      : errorDataOf(err) !== undefined
        ? describeClientError(err)
        : describeTransportFailure(err);
    return { address, ok: false, error };
  } finally {
    attempt.dispose();
  }
}

/** Every address's health, in the order given, asked in parallel. */
export function probeReplicas(addresses: readonly string[], options: { timeoutMs?: number } = {}): Promise<ReplicaProbe[]> {
  const clients = new ReplicaClients();
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  return Promise.all(parseAddresses(addresses).map((a) => probeReplica(clients.get(a), a, timeoutMs)));
}

/** The replica that leads: the one that says so itself, at the highest term (a deposed leader cut off may still think it leads, at a lower term). */
export function leaderOf(probes: readonly ReplicaProbe[]): { id: string; address: string; term: number } | undefined {
  let best: { id: string; address: string; term: number } | undefined;
  for (const p of probes) {
    if (!p.ok || p.health.role !== 'leader') continue;
    if (best === undefined || p.health.term > best.term) best = { id: p.health.id, address: p.address, term: p.health.term };
  }
  return best;
}
