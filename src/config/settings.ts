import { z } from 'zod';

/**
 * Cluster-wide settings that live in the replicated routing table (changed at
 * run time through `PUT /cluster/config`, each change a committed command).
 * Every field has a default, so `{}` is a valid settings object.
 */
export const healthSettingsSchema = z.strictObject({
  /** How often the leader probes each data node. */
  probeIntervalMs: z.number().int().min(10).max(60_000).default(250),
  /** A probe not answered within this is a failure. */
  probeTimeoutMs: z.number().int().min(5).max(60_000).default(200),
  /** Consecutive failed probes before a node is suspect. */
  failureThreshold: z.number().int().min(1).max(100).default(3),
  /** Cap of the exponential backoff for probing nodes already unhealthy. */
  backoffMaxMs: z.number().int().min(10).max(600_000).default(5_000),
  /** A data node accepts writes only this long after its last lease grant. */
  leaseMs: z.number().int().min(50).max(600_000).default(1_000),
});

export const recoverySettingsSchema = z.strictObject({
  /** Copies lost with a failed node are re-created only after this delay (a quick restart causes no storm). */
  replaceDelayMs: z.number().int().min(0).max(86_400_000).default(10_000),
  maxConcurrentPerNode: z.number().int().min(1).max(64).default(2),
  maxConcurrentPerCluster: z.number().int().min(1).max(1024).default(4),
});

export const clusterSettingsSchema = z.strictObject({
  replicationFactor: z.number().int().min(1).max(7).default(2),
  health: healthSettingsSchema.prefault({}),
  recovery: recoverySettingsSchema.prefault({}),
  /** Automatic failure decisions stop when they would leave fewer than this fraction of nodes healthy. */
  minHealthyFraction: z.number().min(0).max(1).default(0.5),
  /** Largest value a data node accepts. */
  maxValueBytes: z.number().int().min(1).max(1024 * 1024 * 1024).default(16 * 1024 * 1024),
});

export type ClusterSettings = z.infer<typeof clusterSettingsSchema>;
export type HealthSettings = z.infer<typeof healthSettingsSchema>;

export const DEFAULT_CLUSTER_SETTINGS: ClusterSettings = clusterSettingsSchema.parse({});
