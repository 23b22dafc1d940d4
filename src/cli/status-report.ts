/**
 * What `torua status` shows, gathered through the client: every replica's
 * own health (a replica that does not answer is down), the members as the
 * leader sees them (last contact is the leader's knowledge) and the cluster
 * as a whole (`cluster.info`, a linearizable read).
 */
import {
  createClusterClient,
  describeClientError,
  joinAddress,
  probeReplicas,
  type ClusterInfo,
  type MemberInfo,
  type ReplicaProbe,
} from '../client/index.js';
import type { ClusterTarget } from './cluster-target.js';

export interface StatusReport {
  readonly source: string;
  /** Every replica asked: the target's, then members the cluster knows that the target did not list. */
  readonly replicas: readonly (ReplicaProbe & { readonly id: string | null })[];
  readonly members: readonly MemberInfo[] | null;
  readonly membersError: string | null;
  readonly cluster: ClusterInfo | null;
  readonly clusterError: string | null;
}

const PROBE_TIMEOUT_MS = 1_000;

export async function gatherStatus(target: ClusterTarget): Promise<StatusReport> {
  const addresses = target.coordinators.map((c) => c.address);
  // Few retries: status is for looking, and a cluster without a leader should say so within seconds.
  const client = createClusterClient({ coordinators: addresses, timeoutMs: 2_500, maxRetries: 3, backoffMs: 100, maxBackoffMs: 400, ...(target.token === undefined ? {} : { token: target.token }) });
  const [probes, members, cluster] = await Promise.all([
    probeReplicas(addresses, { timeoutMs: PROBE_TIMEOUT_MS }),
    client.members.list.query().then(
      (r) => ({ ok: true as const, members: r.members }),
      (e: unknown) => ({ ok: false as const, error: describeClientError(e) }),
    ),
    client.cluster.info.query().then(
      (info) => ({ ok: true as const, info }),
      (e: unknown) => ({ ok: false as const, error: describeClientError(e) }),
    ),
  ]);
  const memberList = members.ok ? members.members : null;
  const known = new Set(addresses);
  const extra = (memberList ?? []).map((m) => joinAddress(m.host, m.api_port)).filter((a) => !known.has(a));
  const allProbes = extra.length === 0 ? probes : [...probes, ...(await probeReplicas(extra, { timeoutMs: PROBE_TIMEOUT_MS }))];
  const idOf = (p: ReplicaProbe): string | null =>
    p.ok
      ? p.health.id
      : (target.coordinators.find((c) => c.address === p.address)?.id ?? memberList?.find((m) => joinAddress(m.host, m.api_port) === p.address)?.id ?? null);
  return {
    source: target.source,
    replicas: allProbes.map((p) => ({ ...p, id: idOf(p) })),
    members: memberList,
    membersError: members.ok ? null : members.error,
    cluster: cluster.ok ? cluster.info : null,
    clusterError: cluster.ok ? null : cluster.error,
  };
}
