import { describe, expect, test } from 'vitest';
import { failingSeeds } from './run-seeds.js';
import type { Variant } from '../../scripts/sim/broken-variants.js';

/**
 * Proof that the simulation has teeth: a core missing one rule of the paper
 * must be caught within the seed budget `npm test` runs for the real core.
 */
const SEED_BUDGET = 2000;

describe('the simulation catches a broken core', () => {
  const cases: [Variant, string][] = [
    ['vote-not-persisted', 'a vote not persisted before the reply'],
    ['commit-by-counting', 'an entry of an earlier term committed by counting'],
    ['no-up-to-date-check', 'a vote granted without the up-to-date check'],
  ];
  for (const [variant, what] of cases) {
    test(`${what} (${variant}) is reported within ${SEED_BUDGET} seeds`, () => {
      const found = failingSeeds(1, SEED_BUDGET, 3, variant, true);
      expect(found.length, `no violation found for ${variant}`).toBe(1);
      expect(found[0]).toMatch(/replay: npm run sim -- --seed \d+ --variant /);
    });
  }
});
