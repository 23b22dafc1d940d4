/**
 * What a node status means: the one table that apply, the placement planner,
 * the health monitor, the storm guard and the cluster state consult, so no
 * two places can disagree about what, say, `maintenance` allows. Placement
 * in the leader may be stricter than apply (it avoids what would have to be
 * undone); apply enforces these.
 */
import type { NodeStatus } from './types.js';

/** A committed status, or `suspect`: the leader's own unconfirmed view (never in the table). */
export type LocalNodeStatus = NodeStatus | 'suspect';

/** How a node counts where the share of healthy nodes matters (storm guard, `healthy_nodes`). */
export type HealthCount = 'healthy' | 'not-healthy' | 'excluded';

export interface StatusRules {
  /** May receive new shard copies (room aside). */
  readonly acceptsNewCopies: boolean;
  /** Its copies must move to other nodes: primaries hand over, the rest are rebuilt elsewhere and trimmed. */
  readonly copiesMoveAway: boolean;
  /** The leader's health monitor probes it (and shows what it saw). */
  readonly probed: boolean;
  /** Failing probes may make it suspect and, once confirmed, unhealthy. */
  readonly mayBeDeclaredFailed: boolean;
  /** `excluded`: a planned absence (or gone), neither for nor against the storm guard's fraction. */
  readonly healthCount: HealthCount;
  /** The copies it still holds count as served (it takes reads and writes for them under its lease). */
  readonly serves: boolean;
  /**
   * Its copies count towards the replication factor although it does not
   * serve them now: it is coming back with its data, so they are neither
   * rebuilt elsewhere nor trimmed (its primaries still hand over).
   */
  readonly keepsCopies: boolean;
}

/**
 * - `unknown`: registered, not yet probed; it takes copies, because a cluster
 *   starting together must be placed before every node has been probed.
 * - `unhealthy`: confirmed failed; its copies are replaced after
 *   `recovery.replaceDelayMs` by the planner's own rule, not moved away.
 * - `maintenance`, `evacuating`: the operator's; the node may be restarted, so
 *   it is never declared failed and does not count for the storm guard. Its
 *   copies move away and it serves them until they have.
 * - `draining`: leaving for good (it ends `left`); like evacuating otherwise.
 * - `restarting`: a rolling upgrade restarts it: its primaries hand over to
 *   in-sync replicas, its other copies stay and catch up from its own data
 *   when it is back; never declared failed until its restart window ends
 *   (then it is `unknown`, handled like any other node).
 * - `suspect`: failing probes, not yet confirmed; still serves and counts
 *   against the storm guard (two nodes failing together must not be decided
 *   one after the other).
 */
export const STATUS_RULES: Readonly<Record<LocalNodeStatus, StatusRules>> = {
  unknown: { acceptsNewCopies: true, copiesMoveAway: false, probed: true, mayBeDeclaredFailed: true, healthCount: 'not-healthy', serves: true, keepsCopies: false },
  healthy: { acceptsNewCopies: true, copiesMoveAway: false, probed: true, mayBeDeclaredFailed: true, healthCount: 'healthy', serves: true, keepsCopies: false },
  unhealthy: { acceptsNewCopies: false, copiesMoveAway: false, probed: true, mayBeDeclaredFailed: false, healthCount: 'not-healthy', serves: false, keepsCopies: false },
  maintenance: { acceptsNewCopies: false, copiesMoveAway: true, probed: true, mayBeDeclaredFailed: false, healthCount: 'excluded', serves: true, keepsCopies: false },
  evacuating: { acceptsNewCopies: false, copiesMoveAway: true, probed: true, mayBeDeclaredFailed: false, healthCount: 'excluded', serves: true, keepsCopies: false },
  draining: { acceptsNewCopies: false, copiesMoveAway: true, probed: true, mayBeDeclaredFailed: false, healthCount: 'excluded', serves: true, keepsCopies: false },
  restarting: { acceptsNewCopies: false, copiesMoveAway: false, probed: true, mayBeDeclaredFailed: false, healthCount: 'excluded', serves: false, keepsCopies: true },
  left: { acceptsNewCopies: false, copiesMoveAway: false, probed: false, mayBeDeclaredFailed: false, healthCount: 'excluded', serves: false, keepsCopies: false },
  suspect: { acceptsNewCopies: false, copiesMoveAway: false, probed: true, mayBeDeclaredFailed: true, healthCount: 'not-healthy', serves: true, keepsCopies: false },
};

export const statusRules = (status: LocalNodeStatus): StatusRules => STATUS_RULES[status];

export const acceptsNewCopies = (status: LocalNodeStatus): boolean => STATUS_RULES[status].acceptsNewCopies;

export const canServe = (status: LocalNodeStatus): boolean => STATUS_RULES[status].serves;

export const copiesMoveAway = (status: LocalNodeStatus): boolean => STATUS_RULES[status].copiesMoveAway;

/**
 * The storm guard's arithmetic, shared by apply and the leader: would
 * `healthyAfter` of `counted` nodes be at least `minHealthyFraction`?
 */
export function healthyShareKept(healthyAfter: number, counted: number, minHealthyFraction: number): boolean {
  return healthyAfter >= minHealthyFraction * counted;
}
