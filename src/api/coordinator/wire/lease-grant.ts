/** The leader's answer to a lease renewal, in the contract's shape (src/datanode/contract.ts). */
import type { LeaseRenewal, Renewed } from '../../../coordinator/leases/index.js';
import { copiesOf, nodeById, type NodeStatus as TableNodeStatus, type ShardRecord } from '../../../coordinator/routing/index.js';
import type { LeaseGrant, NodeStatus, ShardAssignment } from '../../../datanode/contract.js';

// The contract restates the table's node statuses: this fails to compile if they drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const statusesAgree: Same<NodeStatus, TableNodeStatus> = true;
void statusesAgree;

/**
 * What grants take from the shard list, computed once per list: every node
 * renews four times a second, and scanning 4,096 shards for each renewal
 * cost the leader 0.25 ms a grant (a whole core at 1,000 nodes). The table
 * is immutable and keeps its shard list object while no shard changes (a
 * label or status change does not touch it), so one index serves every
 * grant until a shard moves.
 */
interface ShardIndex {
  /** Per node, every shard it holds a copy of, in shard order. */
  readonly byNode: ReadonlyMap<string, readonly ShardAssignment[]>;
  /** The table's epoch of every shard, by id. */
  readonly epochs: readonly number[];
}

const indexes = new WeakMap<readonly ShardRecord[], ShardIndex>();

function shardIndex(shards: readonly ShardRecord[]): ShardIndex {
  const known = indexes.get(shards);
  if (known !== undefined) return known;
  const byNode = new Map<string, ShardAssignment[]>();
  const epochs: number[] = [];
  for (const s of shards) {
    epochs.push(s.epoch);
    const assignment: ShardAssignment = { id: s.id, epoch: s.epoch, primary: s.primary, replicas: s.replicas, inSync: s.inSync };
    for (const id of copiesOf(s)) {
      const list = byNode.get(id);
      if (list === undefined) byNode.set(id, [assignment]);
      else list.push(assignment);
    }
  }
  const index = { byNode, epochs };
  indexes.set(shards, index);
  return index;
}

const NONE: readonly ShardAssignment[] = [];

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
  const shards = index.byNode.get(node.id) ?? NONE;
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
