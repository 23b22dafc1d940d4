import { expect, test } from 'vitest';
import { runSeed } from '../../scripts/sim/simulator.js';

function trace(seed: number): string[] {
  const lines: string[] = [];
  runSeed({ seed, replicas: 3, faultTicks: 150, trace: (l) => lines.push(l) });
  return lines;
}

test('one seed decides everything: the same seed replays the same schedule step by step', () => {
  const a = trace(42);
  expect(a.length).toBeGreaterThan(100);
  expect(trace(42)).toEqual(a);
});

test('different seeds give different schedules', () => {
  expect(trace(43)).not.toEqual(trace(42));
});

test('a healed cluster converges: every run reports a convergence time within the heal budget', () => {
  for (const seed of [1, 2, 3]) {
    const r = runSeed({ seed, replicas: 3 });
    expect(r.violations).toEqual([]);
    expect(r.convergedAfterTicks).toBeDefined();
    expect(r.stats.acked).toBeGreaterThan(0);
  }
});
