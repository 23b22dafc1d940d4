import type { Clock, Timers } from '../common/clock.js';
import { withDeadline } from '../common/deadline-signal.js';
import type { Logger } from '../observability/index.js';
import type { CoordinatorLink, PeerLink } from './contract.js';
import type { LeaseHolder } from './lease.js';
import type { NodeSettings } from './options.js';
import type { ShardCopy } from './shard-copy.js';
import type { ShardLocks } from './shard-locks.js';
import type { ShardStore } from './store/shard-store.js';

/** What the parts of a data node share: its ports, store, lease and copies. */
export interface NodeContext {
  readonly id: string;
  readonly settings: NodeSettings;
  readonly store: ShardStore;
  readonly locks: ShardLocks;
  readonly coordinators: CoordinatorLink;
  readonly peers: PeerLink;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly timers: Timers;
  /** Spreads retries. */
  readonly random: () => number;
  readonly lease: LeaseHolder;
  readonly copies: Map<number, ShardCopy>;
  /** Aborted by stop(): every wait and outgoing call ends with it. */
  readonly signal: AbortSignal;
  /** Something info() shows changed (listeners of onChange are told). */
  changed(): void;
}

/** How long a primary waits for a replica's acknowledgement: the cluster's setting from the newest grant, else the node's option. */
export function replicaAckTimeoutMs(ctx: NodeContext): number {
  return ctx.lease.grant?.replicaAckTimeoutMs ?? ctx.settings.replicaAckTimeoutMs;
}

/** Runs one outgoing call under the node's signal (and `extra`), plus a deadline on the node's timers. */
export function callWithin<T>(ctx: NodeContext, timeoutMs: number, call: (signal: AbortSignal) => Promise<T>, extra?: AbortSignal): Promise<T> {
  return withDeadline(timeoutMs, [ctx.signal, extra], ctx.timers, call);
}

/** `host:port` of a node named in the newest grant. */
export function addressOf(ctx: NodeContext, node: string): string | undefined {
  const addresses = ctx.lease.grant?.addresses;
  return addresses !== undefined && Object.hasOwn(addresses, node) ? addresses[node] : undefined;
}

/** Stores the copy's metadata alone (an epoch or role change), in order with its writes. */
export function saveMeta(ctx: NodeContext, copy: ShardCopy, sync = false): Promise<void> {
  return ctx.locks.run(copy.id, async () => {
    if (ctx.copies.get(copy.id) !== copy) return;
    await ctx.store.write(copy.id, [], copy.meta(), sync);
  });
}
