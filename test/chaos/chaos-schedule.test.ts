import { describe, expect, it } from 'vitest';
import {
  buildSchedule,
  DRAIN_SLOT_MS,
  isPartition,
  MAX_CONCURRENT_FAULTS,
  MAX_HEAL_MS,
  maxConcurrent,
  MIN_HEAL_MS,
  QUIET_TAIL_MS,
  WARMUP_MS,
  type FaultEvent,
} from '../../scripts/chaos/schedule.js';

const SEEDS = [0, 1, 2, 3, 42, 123_456, 0xffff_ffff];

describe('chaos schedule', () => {
  it('is the same for the same seed and differs between seeds', () => {
    const a = buildSchedule({ seed: 7, durationMs: 120_000, partitions: true });
    const b = buildSchedule({ seed: 7, durationMs: 120_000, partitions: true });
    const c = buildSchedule({ seed: 8, durationMs: 120_000, partitions: true });
    expect(b).toEqual(a);
    expect(c.faults).not.toEqual(a.faults);
  });

  it('starts after the warm-up, heals every fault within its bound and before the quiet tail', () => {
    for (const seed of SEEDS) {
      const s = buildSchedule({ seed, durationMs: 300_000, partitions: true });
      expect(s.faults.length).toBeGreaterThan(0);
      for (const f of s.faults) {
        expect(f.atMs).toBeGreaterThanOrEqual(WARMUP_MS);
        expect(f.atMs + f.healAfterMs).toBeLessThanOrEqual(300_000 - QUIET_TAIL_MS);
        if (f.kind === 'drain-restart') expect(f.healAfterMs).toBe(DRAIN_SLOT_MS);
        else {
          expect(f.healAfterMs).toBeGreaterThanOrEqual(MIN_HEAL_MS);
          expect(f.healAfterMs).toBeLessThanOrEqual(MAX_HEAL_MS);
        }
      }
      for (const a of s.admin) expect(a.atMs).toBeLessThan(300_000 - QUIET_TAIL_MS);
    }
  });

  it('never has more than the allowed faults active, one per lane', () => {
    for (const seed of SEEDS) {
      const s = buildSchedule({ seed, durationMs: 600_000, partitions: true });
      expect(maxConcurrent(s.faults)).toBeLessThanOrEqual(MAX_CONCURRENT_FAULTS);
      for (const lane of ['coordinator', 'node'] as const) expect(maxConcurrent(s.faults.filter((f) => f.lane === lane))).toBe(1);
    }
  });

  it('counts overlapping faults (the bound check can fail)', () => {
    const f = (n: number, atMs: number, healAfterMs: number): FaultEvent => ({ n, lane: 'coordinator', kind: 'kill-leader', atMs, healAfterMs, pick: 0 });
    expect(maxConcurrent([f(1, 0, 10), f(2, 5, 10), f(3, 6, 1)])).toBe(3);
    expect(maxConcurrent([f(1, 0, 10), f(2, 10, 10)])).toBe(1);
  });

  it('leaves the partitions out without iptables', () => {
    for (const seed of SEEDS) {
      const s = buildSchedule({ seed, durationMs: 300_000, partitions: false });
      expect(s.faults.filter((f) => isPartition(f.kind))).toEqual([]);
    }
    const withPartitions = buildSchedule({ seed: 1, durationMs: 300_000, partitions: true });
    expect(withPartitions.faults.some((f) => isPartition(f.kind))).toBe(true);
  });

  it('gives a ten-minute run at least 100 faults and 30 leader kills (the acceptance bar)', () => {
    for (const seed of [1, 2, 3]) {
      const s = buildSchedule({ seed, durationMs: 600_000, partitions: true });
      expect(s.faults.length).toBeGreaterThanOrEqual(100);
      expect(s.faults.filter((f) => f.kind === 'kill-leader').length).toBeGreaterThanOrEqual(30);
    }
  });

  it('numbers the faults in start order and refuses a bad seed or duration', () => {
    const s = buildSchedule({ seed: 5, durationMs: 120_000, partitions: true });
    expect(s.faults.map((f) => f.n)).toEqual(s.faults.map((_, i) => i + 1));
    expect([...s.faults].sort((a, b) => a.atMs - b.atMs).map((f) => f.n)).toEqual(s.faults.map((f) => f.n));
    expect(() => buildSchedule({ seed: -1, durationMs: 1_000, partitions: true })).toThrow(/seed/);
    expect(() => buildSchedule({ seed: 1.5, durationMs: 1_000, partitions: true })).toThrow(/seed/);
    expect(() => buildSchedule({ seed: 1, durationMs: 0, partitions: true })).toThrow(/durationMs/);
  });
});
