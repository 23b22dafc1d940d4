import { describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER_SETTINGS, type HealthSettings } from '../../../src/config/index.js';
import { afterProbe, explained, newNodeHealth, withTableStatus, type NodeHealth, type ProbeResult } from '../../../src/coordinator/health/index.js';
import type { NodeStatus } from '../../../src/coordinator/routing/index.js';

const settings: HealthSettings = { ...DEFAULT_CLUSTER_SETTINGS.health, probeIntervalMs: 250, probeTimeoutMs: 200, failureThreshold: 3, backoffMaxMs: 2_000, leaseMs: 1_000 };
const ok: ProbeResult = { ok: true, leaseValid: true };
const fail: ProbeResult = { ok: false, error: 'connect ECONNREFUSED' };

const node = (status: NodeStatus = 'healthy') => ({ id: 'n1', status, statusChangedAtMs: 10, statusReason: 'registered' });

/** Feeds results one probe interval apart, starting at `fromMs`. */
function run(h: NodeHealth, results: readonly ProbeResult[], fromMs = 1_000, s: HealthSettings = settings): NodeHealth {
  return results.reduce((acc, r, i) => afterProbe(acc, r, s, fromMs + i * s.probeIntervalMs), h);
}

describe('failure detector', () => {
  it('starts with the table status and reason, never probed, due now', () => {
    const h = newNodeHealth(node('unknown'), 500);
    expect(h).toMatchObject({ status: 'unknown', consecutiveFailures: 0, lastSuccessMs: null, lastProbeMs: null, nextProbeMs: 500, path: 'ok', changedAtMs: 10, reason: 'registered' });
  });

  it('counts consecutive failures and turns suspect exactly at the threshold, with the reason and time', () => {
    const two = run(newNodeHealth(node(), 0), [fail, fail]);
    expect(two.status).toBe('healthy');
    expect(two.consecutiveFailures).toBe(2);
    const three = afterProbe(two, fail, settings, 5_000);
    expect(three.status).toBe('suspect');
    expect(three.consecutiveFailures).toBe(3);
    expect(three.changedAtMs).toBe(5_000);
    expect(three.reason).toBe('3 consecutive probes failed (last: connect ECONNREFUSED)');
    // Further failures keep the time of the suspicion.
    expect(afterProbe(three, fail, settings, 6_000).changedAtMs).toBe(5_000);
  });

  it('a success resets the count, records when, and clears a suspicion with a reason', () => {
    const suspect = run(newNodeHealth(node(), 0), [fail, fail, fail, fail]);
    const back = afterProbe(suspect, { ok: true, leaseValid: false }, settings, 9_000);
    expect(back).toMatchObject({ status: 'healthy', consecutiveFailures: 0, lastSuccessMs: 9_000, lastProbeMs: 9_000, leaseValid: false, changedAtMs: 9_000, nextProbeMs: 9_250 });
    expect(back.reason).toBe('probe answered again after 4 failures');
  });

  it('short pauses below the threshold never make a node suspect', () => {
    let h = newNodeHealth(node(), 0);
    for (let pause = 0; pause < 20; pause++) h = run(h, [fail, fail, ok], pause * 1_000);
    expect(h.status).toBe('healthy');
    expect(h.consecutiveFailures).toBe(0);
  });

  it('probes a failing node every interval until it is unhealthy in the table, then backs off exponentially up to the cap', () => {
    const failing = run(newNodeHealth(node(), 0), [fail, fail, fail, fail], 0);
    expect(failing.nextProbeMs - failing.lastProbeMs!).toBe(250);
    let h = withTableStatus(failing, { status: 'unhealthy', statusChangedAtMs: 2_000, statusReason: 'confirmed' }, settings);
    expect(h).toMatchObject({ status: 'unhealthy', changedAtMs: 2_000, reason: 'confirmed' });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      h = afterProbe(h, fail, settings, 10_000 * (i + 1));
      delays.push(h.nextProbeMs - h.lastProbeMs!);
    }
    expect(delays).toEqual([500, 1_000, 2_000, 2_000, 2_000, 2_000]);
    // One answer and the interval is back.
    expect(afterProbe(h, ok, settings, 100_000).nextProbeMs).toBe(100_250);
  });

  it('reads the settings it is given each time: a lower threshold or another interval applies at the next probe', () => {
    const two = run(newNodeHealth(node(), 0), [fail, fail]);
    const lower = { ...settings, failureThreshold: 2, probeIntervalMs: 100 };
    expect(afterProbe(two, fail, lower, 7_000)).toMatchObject({ status: 'suspect', nextProbeMs: 7_100 });
    expect(afterProbe(two, fail, { ...settings, failureThreshold: 4 }, 7_000).status).toBe('healthy');
  });

  it('never calls a node the operator manages suspect, but shows its probes', () => {
    const draining = run(newNodeHealth(node('draining'), 0), [fail, fail, fail, fail, fail]);
    expect(draining.status).toBe('draining');
    expect(draining.consecutiveFailures).toBe(5);
    const unknown = run(newNodeHealth(node('unknown'), 0), [fail, fail, fail]);
    expect(unknown.status).toBe('suspect');
  });

  it('the table status takes over when it changes, a suspect node stays suspect while it still fails', () => {
    const suspect = run(newNodeHealth(node('unknown'), 0), [fail, fail, fail]);
    const healthy = withTableStatus(suspect, { status: 'healthy', statusChangedAtMs: 3_000, statusReason: 'first probe answered' }, settings);
    expect(healthy.status).toBe('suspect');
    expect(healthy.tableStatus).toBe('healthy');
    expect(withTableStatus(healthy, { status: 'healthy', statusChangedAtMs: 9, statusReason: 'x' }, settings)).toBe(healthy);
  });

  it('explains without a status change only when the reason or path changes', () => {
    const h = newNodeHealth(node(), 0);
    const degraded = explained(h, 'leader c1 cannot reach n1; c2 can', 'degraded', 4_000);
    expect(degraded).toMatchObject({ path: 'degraded', changedAtMs: 4_000, status: 'healthy' });
    expect(explained(degraded, 'leader c1 cannot reach n1; c2 can', 'degraded', 5_000)).toBe(degraded);
    // A success puts the path back.
    expect(afterProbe(degraded, ok, settings, 6_000).path).toBe('ok');
  });
});
