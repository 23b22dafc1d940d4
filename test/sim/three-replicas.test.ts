import { expect, test } from 'vitest';
import { failingSeeds } from './run-seeds.js';

// 1,500 seeds of 3 replicas (with five-replica.test.ts: 2,000 seeds per `npm test`).
// Each seed: 400 ticks of drops, delays, duplication, reordering, partitions,
// crashes losing unsynced writes, pauses, transfers, membership changes and
// compaction, then healing; every safety property is checked after every step.
test('1,500 seeded fault schedules of 3 replicas keep every safety property and converge after healing', () => {
  expect(failingSeeds(1, 1500, 3)).toEqual([]);
});
