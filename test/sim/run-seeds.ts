import { runSeed, type SimResult } from '../../scripts/sim/simulator.js';
import type { Variant } from '../../scripts/sim/broken-variants.js';

/** Runs seeds from..from+count-1 and returns the ones with violations, each with its replay command. */
export function failingSeeds(from: number, count: number, replicas: number, variant: Variant = 'correct', stopAtFirst = false): string[] {
  const failures: string[] = [];
  for (let seed = from; seed < from + count; seed++) {
    const r: SimResult = runSeed({ seed, replicas, variant });
    if (r.violations.length === 0) continue;
    const v = r.violations[0]!;
    const flags = `${replicas !== 3 ? ` --replicas ${replicas}` : ''}${variant !== 'correct' ? ` --variant ${variant}` : ''}`;
    failures.push(`seed ${seed}: ${v.property} at tick ${v.tick}: ${v.detail}\n  replay: npm run sim -- --seed ${seed}${flags} --trace`);
    if (stopAtFirst) break;
  }
  return failures;
}
