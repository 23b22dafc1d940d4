import { expect, test } from 'vitest';
import { failingSeeds } from './run-seeds.js';

test('500 seeded fault schedules of 5 replicas keep every safety property and converge after healing', () => {
  expect(failingSeeds(1, 500, 5)).toEqual([]);
});
