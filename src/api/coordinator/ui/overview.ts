/**
 * `GET /ui/api/overview`: everything the dashboard shows, in one answer
 * (the page asks at most once a second, and at once after each event).
 *
 * Reads are stale (this replica's table): the page must keep working while
 * there is no quorum, which is when it matters most; the cluster info says
 * how old the table is and whether there is a quorum. The health monitor's
 * view (suspect, degraded path), the replicas' match index and last contact
 * and recovery progress are the leader's alone, so a follower asks the
 * leader for its overview and answers that, saying so; when the leader does
 * not answer in time it answers its own, saying why.
 */
import { forwardedAuthorization } from '../../auth/index.js';
import type { IncomingMessage } from 'node:http';
import { FORWARDED_BY_HEADER, type ApiContext } from '../context.js';
import { createAppCaller } from '../caller.js';
import { exchangeJson } from '../../http/json-exchange.js';
import { MAX_FORWARDED_ANSWER_BYTES } from '../limits.js';
import type { NodeLease } from './node-leases.js';
import { webOrigin } from '../../../tls/web.js';

/** Each node's lease as the node reports it (node-leases.ts). */
export type LeaseProbe = (nodes: readonly { id: string; address: string }[]) => Promise<Record<string, NodeLease>>;

/** Short: the page refreshes every second, and a leader that cannot answer in this time is as good as gone for a dashboard. */
export const OVERVIEW_FORWARD_TIMEOUT_MS = 1_000;

export type OverviewSource = 'leader' | 'this replica';

export interface Overview {
  /** The replica the browser asked. */
  readonly served_by: string;
  /** The replica whose view this is (the leader, or `served_by` when it leads or the leader did not answer). */
  readonly view_of: string;
  /** Why a follower answers its own view: no leader known, or the leader did not answer. */
  readonly view_note: string | null;
  readonly generated_at_ms: number;
  readonly health: unknown;
  readonly info: unknown;
  readonly members: unknown;
  readonly nodes: unknown;
  readonly shards: unknown;
  readonly config: unknown;
  /** By node id: the node's own account of its lease, or why it gave none. */
  readonly node_leases: Record<string, NodeLease>;
}

async function localOverview(ctx: ApiContext, leases: LeaseProbe, note: string | null): Promise<Overview> {
  const caller = createAppCaller(ctx);
  const stale = { consistency: 'stale' } as const;
  const [health, info, members, nodes, shards, config] = await Promise.all([
    caller.cluster.health(),
    caller.cluster.info(stale),
    caller.members.list(),
    caller.nodes.list(stale),
    caller.shards.list(stale),
    caller.admin.config(stale),
  ]);
  const nodeLeases = await leases(nodes.nodes.filter((n) => n.status !== 'left'));
  return {
    served_by: health.id,
    view_of: health.id,
    view_note: note,
    generated_at_ms: Date.now(),
    health,
    info,
    members: members.members,
    nodes: nodes.nodes,
    shards: shards.shards,
    config,
    node_leases: nodeLeases,
  };
}

function isOverview(v: unknown): v is Overview {
  return typeof v === 'object' && v !== null && typeof (v as Overview).view_of === 'string' && Array.isArray((v as Overview).nodes);
}

export async function overview(ctx: ApiContext, req: IncomingMessage, leases: LeaseProbe): Promise<Overview> {
  const status = ctx.service.status();
  const forwarded = req.headers[FORWARDED_BY_HEADER] !== undefined;
  if (status.role === 'leader' || forwarded) return localOverview(ctx, leases, null);
  if (status.leader === '') return localOverview(ctx, leases, 'no leader known: this replica’s own view (no health monitor data)');
  const address = ctx.service.apiAddressOf(status.leader);
  if (address === undefined) return localOverview(ctx, leases, `the leader ${status.leader} has no known address: this replica’s own view`);
  const outcome = await exchangeJson({
    method: 'GET',
    url: `${webOrigin(address)}/ui/api/overview`,
    headers: { [FORWARDED_BY_HEADER]: status.id, ...forwardedAuthorization(ctx.auth) },
    localAddress: ctx.forwarding?.localAddress,
    timeoutMs: OVERVIEW_FORWARD_TIMEOUT_MS,
    maxAnswerBytes: MAX_FORWARDED_ANSWER_BYTES,
  });
  if (outcome.kind === 'answer' && outcome.statusCode === 200 && isOverview(outcome.json)) {
    return { ...outcome.json, served_by: status.id };
  }
  const why = outcome.kind === 'timeout' ? `no answer in ${OVERVIEW_FORWARD_TIMEOUT_MS} ms` : outcome.kind === 'failed' ? outcome.why : `answered ${outcome.statusCode}`;
  return localOverview(ctx, leases, `the leader ${status.leader} (${address}) did not give its view (${why}): this replica’s own view`);
}
