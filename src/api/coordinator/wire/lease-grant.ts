/** The leader's answer to a lease renewal, in the contract's shape (src/datanode/contract.ts). */
import type { LeaseRenewal, Renewed } from '../../../coordinator/leases/index.js';
import { copiesOf, nodeById, shardIndex, type NodeStatus as TableNodeStatus } from '../../../coordinator/routing/index.js';
import type { LeaseGrant, NodeStatus, ShardAssignment } from '../../../datanode/contract.js';

// The contract restates the table's node statuses: this fails to compile if they drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const statusesAgree: Same<NodeStatus, TableNodeStatus> = true;
void statusesAgree;

/**
 * Whether the node must be told every shard's epoch: it needs them only to
 * judge a copy it holds that the grant does not list (reconcile.ts), so they
 * go when its renewal names such a copy, or names none of its copies (a node
 * that does not report them). A node's renewals are sequential and it makes
 * copies only from grants, so a copy missing from a renewal's holdings cannot
 * be waiting on the grant that answers it. Without them a grant is a few
 * hundred bytes instead of 10 KB at 4,096 shards, for the leader, the
 * relaying follower and the node alike.
 */
function needsEpochs(req: Pick<LeaseRenewal, 'holdings'> | undefined, listed: readonly ShardAssignment[]): boolean {
  if (req?.holdings === undefined) return true;
  if (req.holdings.length === 0) return false;
  const ids = new Set<number>();
  for (const a of listed) ids.add(a.id);
  return req.holdings.some((h) => !ids.has(h.shard));
}

/** Every shard the node holds a copy of, and the addresses of every node those shards name; `req`, the renewal answered (see needsEpochs). */
export function leaseGrant(renewed: Renewed, req?: Pick<LeaseRenewal, 'holdings'>): LeaseGrant {
  const { state, node } = renewed;
  const index = shardIndex(state.shards);
  const shards: ShardAssignment[] = (index.byNode.get(node.id) ?? []).map((s) => ({ id: s.id, epoch: s.epoch, primary: s.primary, replicas: s.replicas, inSync: s.inSync }));
  const addresses: Record<string, string> = {};
  for (const s of shards) {
    for (const id of copiesOf(s)) {
      if (Object.hasOwn(addresses, id)) continue;
      const address = nodeById(state, id)?.address;
      if (address !== undefined) addresses[id] = address;
    }
  }
  return {
    leaseMs: renewed.leaseMs,
    leader: renewed.leader,
    ...(renewed.leaderAddress === undefined ? {} : { leaderAddress: renewed.leaderAddress }),
    term: renewed.term,
    status: node.status,
    shardCount: state.shards.length,
    maxValueBytes: state.config.settings.maxValueBytes,
    replicaAckTimeoutMs: state.config.settings.replication.ackTimeoutMs,
    configVersion: state.config.version,
    ...(needsEpochs(req, shards) ? { shardEpochs: index.epochs } : {}),
    shards,
    addresses,
  };
}
