/** The leader's answer to a lease renewal, in the contract's shape (src/datanode/contract.ts). */
import type { Renewed } from '../../../coordinator/leases/index.js';
import { copiesOf, nodeById, type NodeStatus as TableNodeStatus } from '../../../coordinator/routing/index.js';
import type { LeaseGrant, NodeStatus, ShardAssignment } from '../../../datanode/contract.js';

// The contract restates the table's node statuses: this fails to compile if they drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const statusesAgree: Same<NodeStatus, TableNodeStatus> = true;
void statusesAgree;

/** Every shard the node holds a copy of, and the addresses of every node those shards name. */
export function leaseGrant(renewed: Renewed): LeaseGrant {
  const { state, node } = renewed;
  const shards: ShardAssignment[] = [];
  const addresses: Record<string, string> = {};
  for (const s of state.shards) {
    const copies = copiesOf(s);
    if (!copies.includes(node.id)) continue;
    shards.push({ id: s.id, epoch: s.epoch, primary: s.primary, replicas: s.replicas, inSync: s.inSync });
    for (const id of copies) {
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
    shardEpochs: state.shards.map((s) => s.epoch),
    shards,
    addresses,
  };
}
