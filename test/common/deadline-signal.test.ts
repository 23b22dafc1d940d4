import { describe, expect, test } from 'vitest';
import { deadlineSignal } from '../../src/common/deadline-signal.js';
import { SimTime } from '../../src/common/sim-time.js';

describe('deadlineSignal', () => {
  test('fires on the given timers exactly at the deadline, as a timeout', () => {
    const time = new SimTime(0);
    const d = deadlineSignal(250, [], time);
    time.advanceTo(249);
    expect(d.signal.aborted).toBe(false);
    time.advanceTo(250);
    expect(d.signal.aborted).toBe(true);
    expect(d.timedOut()).toBe(true);
    expect((d.signal.reason as DOMException).name).toBe('TimeoutError');
    expect((d.signal.reason as DOMException).message).toBe('no answer within 250 ms');
  });

  test("a caller's abort ends it with the caller's reason, cancels the deadline and is not a timeout", () => {
    const time = new SimTime(0);
    const a = new AbortController();
    const b = new AbortController();
    const d = deadlineSignal(100, [a.signal, undefined, b.signal], time);
    b.abort(new Error('stopping'));
    expect(d.signal.aborted).toBe(true);
    expect((d.signal.reason as Error).message).toBe('stopping');
    expect(time.pending).toBe(0);
    time.advanceTo(1_000);
    expect(d.timedOut()).toBe(false);
  });

  test('an already aborted caller aborts it at once; dispose leaves no timer and no listener behind', () => {
    const time = new SimTime(0);
    const gone = new AbortController();
    gone.abort(new Error('gone'));
    expect(deadlineSignal(100, [gone.signal], time).signal.aborted).toBe(true);
    expect(time.pending).toBe(0);

    const parent = new AbortController();
    const d = deadlineSignal(100, [parent.signal], time);
    d.dispose();
    expect(time.pending).toBe(0);
    parent.abort(new Error('later'));
    time.advanceTo(1_000);
    // Disposed: neither the caller's abort nor the deadline reaches it any more.
    expect(d.signal.aborted).toBe(false);
  });
});
