import { describe, expect, it } from 'vitest';
import { backoffDelayMs, sleep } from '../../src/common/backoff.js';

describe('backoff', () => {
  it('doubles from the base up to the cap, half fixed and half jitter', () => {
    const low = (retry: number) => backoffDelayMs(retry, 50, 1_000, () => 0);
    const high = (retry: number) => backoffDelayMs(retry, 50, 1_000, () => 1);
    expect([1, 2, 3, 4, 5, 6, 7].map(high)).toEqual([50, 100, 200, 400, 800, 1_000, 1_000]);
    expect([1, 2, 3].map(low)).toEqual([25, 50, 100]);
    expect(backoffDelayMs(1_000, 50, 1_000, () => 0.5)).toBe(750);
    expect(backoffDelayMs(0, 50, 1_000)).toBe(0);
    expect(backoffDelayMs(3, 0, 1_000)).toBe(0);
  });

  it('gives the reconnect and webhook delays: retry 1 waits up to the minimum, capped at the maximum', () => {
    expect([1, 2, 3, 4, 5, 6, 11, 2001].map((r) => backoffDelayMs(r, 50, 1000, () => 1))).toEqual([50, 100, 200, 400, 800, 1000, 1000, 1000]);
    expect(backoffDelayMs(1, 50, 1000, () => 0)).toBe(25);
    expect(backoffDelayMs(10, 50, 1000, () => 0)).toBe(500);
    expect(backoffDelayMs(4, 50, 1000, () => 0.5)).toBe(300);
  });

  it('sleeps until aborted', async () => {
    const controller = new AbortController();
    const slept = sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(slept).rejects.toThrow('stop');
  });
});
