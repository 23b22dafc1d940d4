/**
 * Each data node's lease as the node itself reports it (`GET /health` of
 * the node: valid, remaining, from which leader), for the dashboard's node
 * table: the coordinators keep no readable record of it. Asked at most once
 * a second whatever the number of open pages, each node within a short
 * deadline, and for at most MAX_NODES nodes.
 */
import { exchangeJson } from '../../http/json-exchange.js';
import { webOrigin } from '../../../tls/web.js';

export type NodeLease =
  | { readonly valid: boolean; readonly remaining_ms: number; readonly leader: string | null; readonly term: number | null }
  | { readonly error: string };

const CACHE_MS = 1_000;
const TIMEOUT_MS = 500;
const MAX_ANSWER_BYTES = 64 * 1024;
const MAX_NODES = 256;

interface HealthAnswer {
  readonly lease?: { readonly valid?: unknown; readonly remainingMs?: unknown; readonly leader?: unknown; readonly term?: unknown };
}

async function askNode(address: string, localAddress: string | undefined): Promise<NodeLease> {
  const outcome = await exchangeJson({ method: 'GET', url: `${webOrigin(address)}/health`, localAddress, timeoutMs: TIMEOUT_MS, maxAnswerBytes: MAX_ANSWER_BYTES });
  if (outcome.kind === 'timeout') return { error: `no answer in ${TIMEOUT_MS} ms` };
  if (outcome.kind === 'failed') return { error: outcome.why };
  const lease = (outcome.json as HealthAnswer | undefined)?.lease;
  if (outcome.statusCode !== 200 || typeof lease?.valid !== 'boolean' || typeof lease.remainingMs !== 'number') return { error: `answered ${outcome.statusCode} without a lease` };
  return {
    valid: lease.valid,
    remaining_ms: lease.remainingMs,
    leader: typeof lease.leader === 'string' ? lease.leader : null,
    term: typeof lease.term === 'number' ? lease.term : null,
  };
}

export function createLeaseProbe(localAddress: string | undefined): (nodes: readonly { id: string; address: string }[]) => Promise<Record<string, NodeLease>> {
  let cached: { atMs: number; leases: Promise<Record<string, NodeLease>> } | undefined;
  return (nodes) => {
    const now = Date.now();
    if (cached === undefined || now - cached.atMs >= CACHE_MS) {
      const asked = nodes.slice(0, MAX_NODES);
      cached = {
        atMs: now,
        leases: Promise.all(asked.map(async (n) => [n.id, await askNode(n.address, localAddress)] as const)).then((pairs) => Object.fromEntries(pairs)),
      };
    }
    return cached.leases;
  };
}
