import type { Clock, Timers } from '../common/clock.js';
import type { Logger } from '../observability/index.js';
import type { CoordinatorLink, PeerLink } from './contract.js';
import { backoffDelayMs } from '../common/backoff.js';

export interface DataNodeOptions {
  id: string;
  /** host:port as registered (what peers and coordinators dial). */
  address: string;
  /** This node's own directory (<dataDir>/<id>); LevelDB lives in <dir>/db, the identity token in <dir>/identity. */
  dataDir: string;
  capacity: number;
  version: string;
  labels?: Record<string, string>;
  /** Renewal period; default: a quarter of the last granted leaseMs (250 ms before the first grant). */
  renewEveryMs?: number;
  /**
   * An in-sync replica that has not acknowledged a batch within this is taken out of the in-sync set (default 1000);
   * a grant carrying the cluster's `replication.ackTimeoutMs` overrides it.
   */
  replicaAckTimeoutMs?: number;
  /** Most ops per replication batch (default 256) and bytes (default 8 MiB, one op always fits). */
  maxBatchOps?: number;
  maxBatchBytes?: number;
  /** Recovery page size in entries (default 1000) and a byte cap per page (default 4 MiB). */
  recoveryPageLimit?: number;
}

export interface DataNodeModules {
  coordinators: CoordinatorLink;
  peers: PeerLink;
  logger: Logger;
  /** Monotonic time; default the machine's (monotonicClock). Leases, idle sessions and uptime are measured on it. */
  clock?: Clock;
  /** Every wait and timer of the node; default realTimers. */
  timers?: Timers;
  /** Spreads retries; default Math.random. */
  random?: () => number;
}

/** Every tunable with its value; limits that are not options are named here so that each has one home. */
export interface NodeSettings {
  readonly renewEveryMs: number | undefined;
  readonly replicaAckTimeoutMs: number;
  readonly maxBatchOps: number;
  readonly maxBatchBytes: number;
  readonly recoveryPageLimit: number;
  readonly recoveryPageBytes: number;
  /** A primary's queue of writes not yet in a batch. */
  readonly maxQueuedWrites: number;
  readonly maxQueuedBytes: number;
  /** How long a request waits for the renewal its newer epoch triggered. */
  readonly refreshWaitMs: number;
  /** Calls to the coordinators (setInSync, drain) give up after this. */
  readonly coordinatorCallTimeoutMs: number;
  /** Each call of a recovery (begin, page, finish) gives up after this. */
  readonly recoveryCallTimeoutMs: number;
  readonly recoveryIdleMs: number;
  readonly maxRecoverySessions: number;
  readonly maxRecoveryAttempts: number;
  /** Keys the live stream touched during one recovery; beyond it the recovery starts over. */
  readonly maxRecoveryTouchedKeys: number;
  /** Batches queued for one recovering replica's live stream; beyond it the replica drops out. */
  readonly maxLiveBacklog: number;
  readonly retryBaseMs: number;
  readonly retryCapMs: number;
}

const positive = (name: string, v: number | undefined, fallback: number): number => {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`data node option ${name}: expected a positive integer, got ${v}`);
  return v;
};

export function nodeSettings(opts: DataNodeOptions): NodeSettings {
  return {
    renewEveryMs: opts.renewEveryMs === undefined ? undefined : positive('renewEveryMs', opts.renewEveryMs, 0),
    replicaAckTimeoutMs: positive('replicaAckTimeoutMs', opts.replicaAckTimeoutMs, 1_000),
    maxBatchOps: positive('maxBatchOps', opts.maxBatchOps, 256),
    maxBatchBytes: positive('maxBatchBytes', opts.maxBatchBytes, 8 * 1024 * 1024),
    recoveryPageLimit: positive('recoveryPageLimit', opts.recoveryPageLimit, 1_000),
    recoveryPageBytes: 4 * 1024 * 1024,
    maxQueuedWrites: 10_000,
    maxQueuedBytes: 64 * 1024 * 1024,
    refreshWaitMs: 2_000,
    coordinatorCallTimeoutMs: 5_000,
    recoveryCallTimeoutMs: 10_000,
    recoveryIdleMs: 30_000,
    maxRecoverySessions: 16,
    maxRecoveryAttempts: 10,
    maxRecoveryTouchedKeys: 1_000_000,
    maxLiveBacklog: 64,
    retryBaseMs: 100,
    retryCapMs: 5_000,
  };
}

/** The delay before the `attempt`-th retry (1, 2, …) of a call to the coordinators or a primary. */
export function retryDelayMs(s: NodeSettings, attempt: number, random: () => number): number {
  return backoffDelayMs(attempt, s.retryBaseMs, s.retryCapMs, random);
}
