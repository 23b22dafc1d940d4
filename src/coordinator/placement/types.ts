/** What the placement planner is given besides the table, and what it hands back. */
import type { Command } from '../routing/index.js';
import type { LoadInput } from './hotspot.js';

export interface PlacementInput {
  readonly nowMs: number;
  /** First assignment waits until no node has registered for this long, so nodes starting together share the shards (default 1000). */
  readonly settleMs?: number;
  /** …or until this long after the first registration, with whatever nodes there are (default 5000). */
  readonly graceMs?: number;
  /**
   * Run rule 6 (balance) this round (default false). Copies are evened out
   * only when asked — `POST /cluster/rebalance`, or a new node joining — so a
   * node that returns from `unhealthy` gets nothing moved back by itself.
   */
  readonly rebalance?: boolean;
  /** Rule 7 (hotspot.ts): the loads measured and the nodes found hot; absent: no load-based moves. */
  readonly load?: LoadInput;
  /**
   * Plan this many steps at most: the first ones of the whole plan (default:
   * all). A round on the leader's event loop then stays short however much
   * is left to do (the first assignment of thousands of shards), and the
   * rest is planned on the table those steps made. At least 1.
   */
  readonly maxSteps?: number;
}

export const DEFAULT_SETTLE_MS = 1_000;
export const DEFAULT_GRACE_MS = 5_000;

export interface PlannedStep {
  /** A routing-table command: atMs = nowMs, a reason in words (it becomes the event's reason), expectedEpoch = the shard's current epoch. */
  readonly command: Command;
  /** The node losing the primary role of the shard through this command (promotePrimary, or a moveShard that changes or drops the primary), or null. The caller fences that node before proposing. */
  readonly demotes: string | null;
  /** Set on a step of rule 6 (balance): what `POST /cluster/rebalance` reports as planned. */
  readonly balance?: true;
  /** Set on a step of rule 7 (load): the hot node it takes load off. */
  readonly hotNode?: string;
}
