import { describe, expect, test } from 'vitest';
import { SimTime } from '../../src/common/sim-time.js';

describe('SimTime', () => {
  test('fires timers in due order (arming order on ties) only when time is moved to them', () => {
    const t = new SimTime(1_000);
    const fired: string[] = [];
    t.after(20, () => fired.push('b'));
    t.after(10, () => fired.push('a'));
    t.after(20, () => fired.push('c'));
    expect(t.advanceTo(1_009)).toBe(0);
    expect(t.advanceTo(1_020)).toBe(3);
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(t.nowMs()).toBe(1_020);
  });

  test('a timer armed by a firing timer runs in the same advance when due; cancel stops it', () => {
    const t = new SimTime(0);
    const fired: number[] = [];
    t.after(5, () => {
      fired.push(t.nowMs());
      t.after(5, () => fired.push(t.nowMs()));
    });
    const never = t.after(7, () => fired.push(-1));
    never.cancel();
    t.advanceTo(100);
    expect(fired).toEqual([5, 10]);
  });

  test('an interval fires every period; once late by more than a period (a paused process) it fires once and goes on', () => {
    const t = new SimTime(0);
    let n = 0;
    const timer = t.every(10, () => n++);
    for (const ms of [10, 20, 30]) t.advanceTo(ms);
    expect(n).toBe(3);
    t.advanceTo(1_000);
    expect(n).toBe(4);
    t.advanceTo(1_010);
    expect(n).toBe(5);
    timer.cancel();
    t.advanceTo(2_000);
    expect(n).toBe(5);
    expect(t.pending).toBe(0);
  });

  test('drift skews what the clock reads and when its timers fire, not the true time', () => {
    const t = new SimTime(0);
    t.driftMs = 50;
    expect(t.nowMs()).toBe(50);
    let at = -1;
    t.after(10, () => (at = t.nowMs()));
    t.advanceTo(9);
    expect(at).toBe(-1);
    t.advanceTo(10);
    expect(at).toBe(60);
  });
});
