/**
 * What a node's status means for placement. Stricter than apply's rules
 * (routing/node-status.ts): apply only refuses what would be unsafe, the
 * planner also avoids what would have to be undone (a copy on a node that is
 * leaving).
 */
import { acceptsNewCopies, canServe, copiesMoveAway, statusRules, type NodeRecord, type NodeStatus } from '../routing/index.js';

/** Its copies must leave it (maintenance, evacuating, draining: routing/node-status.ts); it serves them until they have. */
export const isLeaving = (status: NodeStatus): boolean => copiesMoveAway(status);

/** Serves and nobody asked its copies to go (unknown, healthy): copies on it stay. */
export const isStaying = (status: NodeStatus): boolean => canServe(status) && !isLeaving(status);

/** A node that may receive a new copy (room aside). */
export const isEligible = (node: NodeRecord): boolean => acceptsNewCopies(node.status);

/** Whether the shard's primary may stay where it is. */
export const keepsPrimary = (node: NodeRecord | undefined): boolean => node !== undefined && isStaying(node.status);

/**
 * Whether a copy on this node counts towards the replication factor. A failed
 * node's copies still count for `replaceDelayMs`, so a quick restart does not
 * set off a storm of copying; a node restarted on purpose (`restarting`)
 * keeps its copies for its whole restart window.
 */
export function countsAsCopy(node: NodeRecord | undefined, nowMs: number, replaceDelayMs: number): boolean {
  if (node === undefined) return false;
  if (isStaying(node.status) || statusRules(node.status).keepsCopies) return true;
  return node.status === 'unhealthy' && nowMs - node.statusChangedAtMs < replaceDelayMs;
}
