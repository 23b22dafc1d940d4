import { z } from 'zod';
import { intInRange, numberInRange, strictObject } from './fields.js';

/**
 * Cluster-wide settings that live in the replicated routing table (changed at
 * run time through `PUT /cluster/config`, each change a committed command).
 * Every field has a default, so `{}` is a valid settings object.
 */
export const healthSettingsSchema = strictObject({
  /** How often the leader probes each data node. */
  probeIntervalMs: intInRange(10, 60_000).default(250),
  /** A probe not answered within this is a failure. */
  probeTimeoutMs: intInRange(5, 60_000).default(200),
  /** Consecutive failed probes before a node is suspect. */
  failureThreshold: intInRange(1, 100).default(3),
  /** Cap of the exponential backoff for probing nodes already unhealthy. */
  backoffMaxMs: intInRange(10, 600_000).default(5_000),
  /** A data node accepts writes only this long after its last lease grant. */
  leaseMs: intInRange(50, 600_000).default(1_000),
}).superRefine((h, ctx) => {
  // One probe in flight per node: a probe times out before the next one is due.
  if (h.probeTimeoutMs > h.probeIntervalMs) {
    ctx.addIssue({
      code: 'custom',
      path: ['probeTimeoutMs'],
      input: h.probeTimeoutMs,
      message: `expected at most probeIntervalMs (${h.probeIntervalMs})`,
      params: { why: 'one probe per node is in flight at a time' },
    });
  }
  // The lease rides on the probes: between two grants to a healthy node lie up
  // to an interval plus a slow answer. A shorter lease would fence healthy nodes.
  if (h.leaseMs <= h.probeIntervalMs + h.probeTimeoutMs) {
    ctx.addIssue({
      code: 'custom',
      path: ['leaseMs'],
      input: h.leaseMs,
      message: `expected more than probeIntervalMs + probeTimeoutMs (${h.probeIntervalMs + h.probeTimeoutMs})`,
      params: { why: 'a shorter lease runs out between two probes of a healthy node' },
    });
  }
  if (h.backoffMaxMs < h.probeIntervalMs) {
    ctx.addIssue({
      code: 'custom',
      path: ['backoffMaxMs'],
      input: h.backoffMaxMs,
      message: `expected at least probeIntervalMs (${h.probeIntervalMs})`,
      params: { why: 'backoff only lengthens the probe interval' },
    });
  }
});

export const recoverySettingsSchema = strictObject({
  /** Copies lost with a failed node are re-created only after this delay (a quick restart causes no storm). */
  replaceDelayMs: intInRange(0, 86_400_000).default(10_000),
  maxConcurrentPerNode: intInRange(1, 64).default(2),
  maxConcurrentPerCluster: intInRange(1, 1024).default(4),
}).superRefine((r, ctx) => {
  if (r.maxConcurrentPerNode > r.maxConcurrentPerCluster) {
    ctx.addIssue({
      code: 'custom',
      path: ['maxConcurrentPerNode'],
      input: r.maxConcurrentPerNode,
      message: `expected at most maxConcurrentPerCluster (${r.maxConcurrentPerCluster})`,
    });
  }
});

export const placementSettingsSchema = strictObject({
  /** A shard rather stays under-replicated than puts two copies in one zone (`labels.zone`). */
  zoneStrict: z.boolean({ error: 'expected true or false' }).default(false),
  /** A node carrying at least this many times the mean node load is hot. */
  hotRatio: numberInRange(1.1, 100).default(1.8),
  /** …for this long before the leader moves load off it. */
  hotWindowMs: intInRange(1_000, 3_600_000).default(30_000),
});

/** Settings the data nodes run, sent with every lease grant (a change reaches a running node with its next renewal). */
export const replicationSettingsSchema = strictObject({
  /** An in-sync replica that has not acknowledged a batch within this is taken out of the in-sync set, so writes go on without it. */
  ackTimeoutMs: intInRange(50, 60_000).default(1_000),
});

export const clusterSettingsSchema = strictObject({
  replicationFactor: intInRange(1, 7).default(2),
  health: healthSettingsSchema.prefault({}),
  recovery: recoverySettingsSchema.prefault({}),
  placement: placementSettingsSchema.prefault({}),
  replication: replicationSettingsSchema.prefault({}),
  /** Automatic failure decisions stop when they would leave fewer than this fraction of nodes healthy. */
  minHealthyFraction: numberInRange(0, 1).default(0.5),
  /** Largest value a data node accepts. */
  maxValueBytes: intInRange(1, 1024 * 1024 * 1024).default(16 * 1024 * 1024),
});

export type ClusterSettings = z.infer<typeof clusterSettingsSchema>;
export type HealthSettings = z.infer<typeof healthSettingsSchema>;
export type RecoverySettings = z.infer<typeof recoverySettingsSchema>;
export type PlacementSettings = z.infer<typeof placementSettingsSchema>;
export type ReplicationSettings = z.infer<typeof replicationSettingsSchema>;

export const DEFAULT_CLUSTER_SETTINGS: ClusterSettings = clusterSettingsSchema.parse({});
