/** `createClusterClient`: a typed tRPC client over every coordinator replica, following the leader. */
import { createTRPCClient, splitLink, type TRPCClient } from '@trpc/client';
import type { AppRouter } from '../api/coordinator/index.js';
import { joinAddress, parseAddress } from './addresses.js';
import { failoverLink } from './failover-link.js';
import { LeaderTracker } from './leader-tracker.js';
import { resolveSettings, type ClusterClientOptions } from './options.js';
import { probeReplica } from './probe.js';
import { ReplicaClients } from './replica-clients.js';
import { failoverSubscriptionLink } from './subscription-link.js';
import { withDeadline } from '../common/deadline-signal.js';
import { realTimers } from '../common/clock.js';

/** Every procedure of the coordinator API, typed: `client.nodes.register.mutate({ id, address })`. */
export type ClusterClient = TRPCClient<AppRouter>;

export function createClusterClient(options: ClusterClientOptions): ClusterClient {
  const settings = resolveSettings(options);
  const replicas = new ReplicaClients(settings.fetch, settings.headers);
  const tracker = new LeaderTracker(settings.coordinators, settings.leaderRecheckMs, {
    probe: (address) => probeReplica(replicas.get(address), address, settings.probeTimeoutMs),
    async lookUpAddress(via, leaderId) {
      const client = replicas.get(via);
      return withDeadline(settings.probeTimeoutMs, [], realTimers, async (signal) => {
        const info = await client.cluster.info.query({ consistency: 'stale' }, { signal });
        if (info.leader === leaderId && info.leader_address !== null) return parseAddress(info.leader_address).address;
        const { members } = await client.members.list.query(undefined, { signal });
        const member = members.find((m) => m.id === leaderId);
        return member === undefined ? undefined : joinAddress(member.host, member.api_port);
      });
    },
    now: () => performance.now(),
  });
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: failoverSubscriptionLink(tracker, settings),
        false: failoverLink(tracker, settings),
      }),
    ],
  });
}
