import { describe, expect, it } from 'vitest';
import { clusterSettingsSchema, DEFAULT_CLUSTER_SETTINGS, formatZodIssues } from '../../src/config/index.js';

const problems = (value: unknown) => {
  const r = clusterSettingsSchema.safeParse(value, { reportInput: true });
  return r.success ? [] : formatZodIssues(r.error.issues);
};

describe('cluster settings', () => {
  it('keeps the defaults other layers rely on', () => {
    expect(DEFAULT_CLUSTER_SETTINGS).toEqual({
      replicationFactor: 2,
      health: { probeIntervalMs: 250, probeTimeoutMs: 200, failureThreshold: 3, backoffMaxMs: 5_000, leaseMs: 1_000 },
      recovery: { replaceDelayMs: 10_000, maxConcurrentPerNode: 2, maxConcurrentPerCluster: 4 },
      placement: { zoneStrict: false, hotRatio: 1.8, hotWindowMs: 30_000 },
      replication: { ackTimeoutMs: 1_000 },
      minHealthyFraction: 0.5,
      maxValueBytes: 16 * 1024 * 1024,
    });
  });

  it('checks the health timings against each other', () => {
    expect(problems({ health: { probeIntervalMs: 100, probeTimeoutMs: 100, leaseMs: 201 } })).toEqual([]);
    expect(problems({ health: { probeTimeoutMs: 251 } })).toEqual([
      'health.probeTimeoutMs: expected at most probeIntervalMs (250), got 251; one probe per node is in flight at a time',
    ]);
    expect(problems({ health: { leaseMs: 450 } })).toEqual([
      'health.leaseMs: expected more than probeIntervalMs + probeTimeoutMs (450), got 450; a shorter lease runs out between two probes of a healthy node',
    ]);
    expect(problems({ health: { backoffMaxMs: 100 } })).toEqual([
      'health.backoffMaxMs: expected at least probeIntervalMs (250), got 100; backoff only lengthens the probe interval',
    ]);
    expect(problems({ recovery: { maxConcurrentPerNode: 5 } })).toEqual(['recovery.maxConcurrentPerNode: expected at most maxConcurrentPerCluster (4), got 5']);
    expect(problems({ minHealthyFraction: 2 })).toEqual(['minHealthyFraction: expected a number from 0 to 1, got 2']);
  });

  it('stay derivable: the nested sections keep their shapes despite the rules', () => {
    // Other layers derive patch schemas from the shapes; zod refuses .partial() on a refined object, not .shape.
    expect(Object.keys(clusterSettingsSchema.shape.health.unwrap().shape)).toEqual(Object.keys(DEFAULT_CLUSTER_SETTINGS.health));
    expect(Object.keys(clusterSettingsSchema.shape.recovery.unwrap().shape)).toEqual(Object.keys(DEFAULT_CLUSTER_SETTINGS.recovery));
    expect(() => clusterSettingsSchema.partial()).not.toThrow();
  });
});
