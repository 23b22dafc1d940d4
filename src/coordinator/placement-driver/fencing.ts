/**
 * The fencing rule of every step that takes the primary role from a node X
 * (DESIGN.md §5, §6): the step may commit only once X is certainly not
 * serving the shard any more, or two primaries would take writes. Either X
 * says so (a handoff: it finishes the batch in flight and refuses the rest
 * until it learns a newer epoch), or X's lease has run out (it refuses
 * writes by itself then). A node that did not answer a handoff is not asked
 * again for a while: it is probably down, and its lease will run out anyway.
 *
 * Once X is fenced for a step, the leader grants X no lease until the table
 * shows the step committed (or the step is released as refused): a renewal
 * whose read came before the commit would give X a fresh lease on the old
 * assignment (LeaseTable.markDemoting).
 */
import type { Logger } from '../../observability/index.js';
import type { NodeLink } from '../node-link.js';
import { nodeById, type RoutingState } from '../routing/index.js';
import { systemClock, type Clock } from '../../common/clock.js';

export interface FencerOptions {
  /** How long a handoff may take; a hung node must not hold a placement round for long (default 500). */
  readonly handoffTimeoutMs?: number;
  /** After a failed handoff, X is not asked again for this long (default 1000). */
  readonly handoffRetryMs?: number;
}

export interface FencerModules {
  readonly leases: {
    fencedAtMs(nodeId: string, leaseMs: number): number;
    markDemoting(nodeId: string, shard: number, epoch: number): void;
    releaseDemoting(nodeId: string, shard: number, epoch: number): void;
  };
  readonly nodeLink: NodeLink;
  readonly logger: Logger;
  readonly clock?: Clock;
}

export type FenceResult =
  /**
   * `caughtUp`: X handed off and said every write it stored reached every
   * in-sync replica, so it may stay an in-sync replica (a planned handoff);
   * false when X was fenced by its lease running out (it may hold writes
   * nobody else has).
   */
  | { readonly fenced: true; readonly how: string; readonly caughtUp: boolean }
  /** `untilMs`: when the lease runs out (Infinity while this replica does not lead). */
  | { readonly fenced: false; readonly untilMs: number; readonly why: string };

/** What the driver and the forced removal need of a Fencer (tests may pass their own). */
export interface Fencing {
  /** Whether `nodeId` is fenced for `shardId` at `epoch` (the shard's current epoch in `state`). */
  fence(state: RoutingState, nodeId: string, shardId: number, epoch: number): Promise<FenceResult>;
  /** The step a `fence` was for was refused: `nodeId` may be granted leases again. */
  release(nodeId: string, shardId: number, epoch: number): void;
}

/**
 * How a NodeControl builds its fencing rule: the production one is `newFencer`;
 * the system simulation passes another to prove its checks catch a broken rule.
 */
export type FencingFactory = (opts: FencerOptions, modules: FencerModules) => Fencing;

export const newFencer: FencingFactory = (opts, modules) => new Fencer(opts, modules);

const DEFAULT_HANDOFF_TIMEOUT_MS = 500;
const DEFAULT_HANDOFF_RETRY_MS = 1_000;

export class Fencer implements Fencing {
  private readonly clock: Clock;
  /** When a handoff to each node last failed; bounded by the nodes of the table. */
  private readonly handoffFailedAtMs = new Map<string, number>();

  constructor(
    private readonly opts: FencerOptions,
    private readonly modules: FencerModules,
  ) {
    this.clock = modules.clock ?? systemClock;
  }

  async fence(state: RoutingState, nodeId: string, shardId: number, epoch: number): Promise<FenceResult> {
    const result = await this.check(state, nodeId, shardId, epoch);
    // Synchronously with the answer: no renewal of X can be granted between this and the step's proposal.
    if (result.fenced) this.modules.leases.markDemoting(nodeId, shardId, epoch);
    return result;
  }

  release(nodeId: string, shardId: number, epoch: number): void {
    this.modules.leases.releaseDemoting(nodeId, shardId, epoch);
  }

  private async check(state: RoutingState, nodeId: string, shardId: number, epoch: number): Promise<FenceResult> {
    const leaseMs = state.config.settings.health.leaseMs;
    const untilMs = this.modules.leases.fencedAtMs(nodeId, leaseMs);
    const now = this.clock.nowMs();
    if (now >= untilMs) return { fenced: true, how: `the lease of ${nodeId} has run out`, caughtUp: false };
    const failedAt = this.handoffFailedAtMs.get(nodeId);
    if (failedAt !== undefined && now - failedAt < (this.opts.handoffRetryMs ?? DEFAULT_HANDOFF_RETRY_MS)) {
      return { fenced: false, untilMs, why: `${nodeId} did not answer a handoff; waiting for its lease to run out` };
    }
    const address = nodeById(state, nodeId)?.address;
    if (address === undefined) return { fenced: false, untilMs, why: `${nodeId} is not in the table; waiting for its lease to run out` };
    // Not remembered on success: a node that restarts forgets it handed off, so every step asks again.
    try {
      const done = await this.modules.nodeLink.handoff(address, { shard: shardId, epoch }, this.opts.handoffTimeoutMs ?? DEFAULT_HANDOFF_TIMEOUT_MS);
      this.handoffFailedAtMs.delete(nodeId);
      const caughtUp = done.caughtUp === true;
      return { fenced: true, how: `${nodeId} handed shard ${shardId} off at epoch ${epoch} (seq ${done.lastSeq}${caughtUp ? ', caught up' : ''})`, caughtUp };
    } catch (e) {
      this.handoffFailedAtMs.set(nodeId, this.clock.nowMs());
      const message = e instanceof Error ? e.message : String(e);
      this.modules.logger.debug('handoff failed', { node: nodeId, shard: shardId, epoch, error: message });
      return { fenced: false, untilMs, why: `handoff to ${nodeId} failed (${message}); waiting for its lease to run out` };
    }
  }
}
