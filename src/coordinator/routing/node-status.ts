/** Which node statuses allow what. Placement in the leader may be stricter; apply enforces these. */
import type { NodeStatus } from './types.js';

/**
 * New shard copies go only to nodes nothing speaks against. `unknown` is
 * included because a node is unknown until first probed, and until the
 * health monitor exists (issue 5) nothing probes: admin assignment must work.
 */
export function acceptsNewCopies(status: NodeStatus): boolean {
  return status === 'healthy' || status === 'unknown';
}

/**
 * Whether copies on the node count as served. Maintenance, evacuating and
 * draining nodes still serve until their shards have moved; only a
 * confirmed failure or a departure stops that.
 */
export function canServe(status: NodeStatus): boolean {
  return status !== 'unhealthy' && status !== 'left';
}
