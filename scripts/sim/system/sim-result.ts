/** What a run of the system simulation is asked (its options) and what it answers (violations, figures, trace). */
import { DEFAULT_FAULT_MS, DEFAULT_HEAL_MS } from './profile.js';
import type { SystemVariant } from './planted.js';

export interface SystemSimOptions {
  readonly seed: number;
  readonly replicas: number;
  /** Data nodes registered before the client starts (default 8); the client registers more. */
  readonly nodes?: number;
  /** Shards of the table (default 8). */
  readonly shards?: number;
  readonly faultMs?: number;
  readonly healMs?: number;
  /** A deliberately broken part, planted outside src/, to prove the checks catch it. */
  readonly variant?: SystemVariant;
  /** Every trace line as it happens (replay); otherwise only the last ones are kept for a failure. */
  readonly trace?: (line: string) => void;
}

export interface SystemViolation {
  readonly property: string;
  readonly atMs: number;
  readonly detail: string;
}

export interface SystemStats {
  proposals: number;
  acked: number;
  refused: number;
  unknown: number;
  reads: number;
  readsServed: number;
  crashes: number;
  pauses: number;
  partitions: number;
  transfers: number;
  adminOperations: number;
  leaderChanges: number;
  nodeCrashes: number;
  nodeCuts: number;
  declaredFailed: number;
  leaseGrants: number;
  /** Client writes the data nodes took, acknowledged, and in-sync removals they asked for. */
  writes: number;
  writesAcked: number;
  inSyncRemovals: number;
  /** Caught-up copies their primaries asked to add to the in-sync set. */
  inSyncJoins: number;
  /** Steps × shards with one node serving writes (the check has something to look at). */
  servedShardSteps: number;
  messages: number;
  dropped: number;
}

export interface SystemSimResult {
  readonly seed: number;
  readonly replicas: number;
  readonly variant: SystemVariant;
  /** The options that differ from the defaults, as command-line flags (for the replay command). */
  readonly flags: string;
  readonly violations: readonly SystemViolation[];
  /** Simulated ms from healing to convergence; undefined when it never converged. */
  readonly convergedAfterMs: number | undefined;
  /** Simulated ms from healing to every shard served with all its copies in sync; undefined when that never happened. */
  readonly inSyncAfterMs: number | undefined;
  readonly simulatedMs: number;
  readonly stats: SystemStats;
  /** Wall time of the data-node duties' timer callbacks (health rounds, deadlines), all replicas. */
  readonly controlCost: { readonly callbacks: number; readonly totalMs: number; readonly maxMs: number };
  /** Wall time of the placement planner's rounds (the driver's plan, all replicas). */
  readonly planCost: { readonly rounds: number; readonly totalMs: number; readonly maxMs: number };
  /** Wall time of the whole run. */
  readonly wallMs: number;
  /** The last trace lines before the end (or the first violation). */
  readonly trace: readonly string[];
}

export function emptyStats(): SystemStats {
  return {
    proposals: 0,
    acked: 0,
    refused: 0,
    unknown: 0,
    reads: 0,
    readsServed: 0,
    crashes: 0,
    pauses: 0,
    partitions: 0,
    transfers: 0,
    adminOperations: 0,
    leaderChanges: 0,
    nodeCrashes: 0,
    nodeCuts: 0,
    declaredFailed: 0,
    leaseGrants: 0,
    writes: 0,
    writesAcked: 0,
    inSyncRemovals: 0,
    inSyncJoins: 0,
    servedShardSteps: 0,
    messages: 0,
    dropped: 0,
  };
}

/** The options that differ from the defaults, as command-line flags (for the replay command). */
export function replayFlags(o: SystemSimOptions): string {
  const f: string[] = [];
  if (o.replicas !== 3) f.push(`--replicas ${o.replicas}`);
  if (o.nodes !== undefined && o.nodes !== 8) f.push(`--nodes ${o.nodes}`);
  if (o.shards !== undefined && o.shards !== 8) f.push(`--shards ${o.shards}`);
  if (o.variant !== undefined && o.variant !== 'none') f.push(`--variant ${o.variant}`);
  if (o.faultMs !== undefined && o.faultMs !== DEFAULT_FAULT_MS) f.push(`--fault-ms ${o.faultMs}`);
  if (o.healMs !== undefined && o.healMs !== DEFAULT_HEAL_MS) f.push(`--heal-ms ${o.healMs}`);
  return f.join(' ');
}
