import { describe, expect, it } from 'vitest';
import type { HistoryOp } from '../../scripts/chaos/history.js';
import { checkLinearizability, type Violation } from '../../scripts/chaos/linearizability/index.js';
import { del, get, put } from './ops.js';

const verdict = (h: HistoryOp[]) => checkLinearizability(h).verdict;

/** The one violation of `h`, found both by the one-pass check and by the search alone, explained the same way. */
function onlyViolation(h: HistoryOp[]): Violation {
  const [quick, searched] = [true, false].map((certainFirst) => {
    const r = checkLinearizability(h, { certainFirst });
    expect(r.verdict).toBe('no');
    expect(r.violations).toHaveLength(1);
    return r.violations[0]!;
  });
  expect(searched!.reason).toBe(quick!.reason);
  return quick!;
}

describe('linearizability checker: legal histories', () => {
  it('accepts overlapping puts and gets that only one order of the puts explains', () => {
    const h = [
      put(1, 'k', 'a', [0, 10]),
      put(2, 'k', 'b', [2, 8]),
      get(3, 'k', 'b', [3, 4]),
      get(3, 'k', 'a', [5, 6]),
      get(4, 'k', 'a', [11, 12]),
    ];
    expect(verdict(h)).toBe('yes');
  });

  it('accepts the other order of the same puts too, and a read of "absent" before either took effect', () => {
    const h = [
      put(1, 'k', 'a', [0, 10]),
      put(2, 'k', 'b', [2, 8]),
      get(3, 'k', null, [0.5, 1]),
      get(3, 'k', 'a', [3, 4]),
      get(3, 'k', 'b', [5, 6]),
      get(4, 'k', 'b', [11, 12]),
    ];
    expect(verdict(h)).toBe('yes');
  });

  it('accepts operations that touch at one instant as concurrent, in either order', () => {
    expect(verdict([put(1, 'k', 'a', [0, 5]), get(2, 'k', null, [5, 6])])).toBe('yes');
    expect(verdict([get(2, 'k', 'a', [0, 5]), put(1, 'k', 'a', [5, 6])])).toBe('yes');
  });

  it('accepts an unknown put that took effect, even long after the client gave up', () => {
    const h = [put(1, 'k', 'a', [0, 1]), put(1, 'k', 'b', [2, 5], 'unknown'), get(2, 'k', 'a', [10, 11]), get(2, 'k', 'b', [100, 101])];
    expect(verdict(h)).toBe('yes');
  });

  it('accepts an unknown put that never took effect, with and without a give-up time', () => {
    const h = [put(1, 'k', 'a', [0, 1]), put(1, 'k', 'b', [2, null], 'unknown'), put(2, 'k', 'c', [3, 9], 'unknown'), get(2, 'k', 'a', [100, 101])];
    expect(verdict(h)).toBe('yes');
  });

  it('accepts deletes: a read of "absent" after a delete, of the old value while the delete runs', () => {
    const h = [
      put(1, 'k', 'a', [0, 1]),
      del(1, 'k', [2, 6]),
      get(2, 'k', 'a', [3, 4]),
      get(2, 'k', null, [5, 5.5]),
      get(3, 'k', null, [7, 8]),
      put(1, 'k', 'b', [9, 10]),
      get(3, 'k', 'b', [11, 12]),
    ];
    expect(verdict(h)).toBe('yes');
  });

  it('ignores failed writes and gets that failed or timed out', () => {
    const h = [
      put(1, 'k', 'a', [0, 1], 'fail'),
      get(2, 'k', 'junk', [2, 3], 'fail'),
      get(2, 'k', 'junk', [4, null], 'unknown'),
      get(3, 'k', null, [5, 6]),
    ];
    expect(verdict(h)).toBe('yes');
  });

  it('checks keys independently and counts keys and operations', () => {
    const h = [put(1, 'k1', 'a', [0, 1]), put(1, 'k2', 'a', [0, 1]), get(2, 'k1', 'a', [2, 3]), get(2, 'k2', 'a', [2, 3]), get(2, 'k2', 'a', [4, 5])];
    const r = checkLinearizability(h);
    expect(r).toMatchObject({ verdict: 'yes', keys: 2, ops: 5 });
    expect(r.results.map((x) => [x.key, x.ops, x.verdict])).toEqual([
      ['k1', 2, 'ok'],
      ['k2', 3, 'ok'],
    ]);
  });
});

describe('linearizability checker: violations', () => {
  it('rejects a stale read: an old value after a newer write completed before the read began', () => {
    const v = onlyViolation([put(1, 'k7', 'v5', [100, 101]), put(1, 'k7', 'v6', [105, 110.2]), get(2, 'k7', 'v5', [120.1, 121])]);
    expect(v.key).toBe('k7');
    expect(v.reason).toBe(
      'get k7 by client 2 at [120.1, 121.0] returned v5, but v5 was overwritten by put v6 (client 1, completed 110.2) before the get began (v5 was written by put v5 (client 1, completed 101.0))',
    );
    expect(v.ops.map((o) => o.value)).toEqual(['v5', 'v6', 'v5']);
    expect(v.minimal).toBe(true);
  });

  it('rejects a lost acknowledged write seen in the history: a later read returns the value from before it, no other writer', () => {
    const h = [
      put(1, 'k', 'v1', [0, 1]),
      get(2, 'k', 'v1', [1.5, 2]),
      put(1, 'k', 'v2', [3, 4]),
      get(2, 'k', 'v2', [5, 6]),
      get(3, 'k', 'v1', [10, 11]),
    ];
    const v = onlyViolation(h);
    // The read of v2 is no longer needed to show it: the acknowledged put of v2 alone replaced v1.
    expect(v.ops).toEqual([h[0], h[2], h[4]]);
    expect(v.reason).toMatch(/returned v1, but v1 was overwritten by put v2 \(client 1, completed 4\.0\) before the get began/);
  });

  it('rejects a read of "absent" after a put completed, naming the put', () => {
    const v = onlyViolation([put(1, 'k', 'a', [0, 1]), get(2, 'k', null, [2, 3])]);
    expect(v.reason).toBe('get k by client 2 at [2.0, 3.0] returned not found, but put a (client 1, completed 1.0) had written k before the get began');
  });

  it('rejects a delete that came back: the old value read after an acknowledged delete', () => {
    const v = onlyViolation([put(1, 'k', 'a', [0, 1]), del(1, 'k', [2, 3]), get(2, 'k', 'a', [4, 5])]);
    expect(v.reason).toMatch(/returned a, but a was deleted by delete \(client 1, completed 3\.0\) before the get began/);
  });

  it('rejects a read of a value never written', () => {
    const v = onlyViolation([put(1, 'k', 'a', [0, 1]), get(2, 'k', 'zzz', [2, 3])]);
    expect(v.reason).toBe('get k by client 2 at [2.0, 3.0] returned zzz, a value no put of k wrote');
    expect(v.ops).toHaveLength(1);
  });

  it('rejects a read of a value only a failed put wrote', () => {
    const v = onlyViolation([put(1, 'k', 'a', [0, 1], 'fail'), get(2, 'k', 'a', [2, 3])]);
    expect(v.reason).toMatch(/returned a, but the only put of a failed: put k=a by client 1 at \[0\.0, 1\.0\], failed/);
  });

  it('rejects a write visible before it was invoked: a get that completed before the put began returned its value', () => {
    const v = onlyViolation([get(2, 'k', 'v1', [0, 1]), put(1, 'k', 'v1', [5, 6])]);
    expect(v.reason).toBe('get k by client 2 at [0.0, 1.0] returned v1, but v1 was first written by put (client 1) invoked at 5.0, after the get completed');
  });

  it('rejects reads that flip back to an older value with no write to explain it, listing the operations', () => {
    const h = [
      put(1, 'k', 'a', [0, 10]),
      put(2, 'k', 'b', [0, 10]),
      get(3, 'k', 'a', [1, 2]),
      get(3, 'k', 'b', [3, 4]),
      get(3, 'k', 'a', [5, 6]),
      get(4, 'k', 'b', [20, 21]),
    ];
    const v = onlyViolation(h);
    // Either flip is a witness: a, b, a or b, a, b, each with both puts.
    expect(v.ops).toHaveLength(5);
    expect(v.ops.filter((o) => o.op === 'put')).toEqual(h.slice(0, 2));
    expect(v.reason).toMatch(/^get k by client \d at \[\d+\.0, \d+\.0\] returned [ab]: no order of these 5 operations on k is legal for a register/);
  });

  it('finds the violation among many legal operations and on the right key only', () => {
    const h: HistoryOp[] = [];
    for (let i = 0; i < 500; i++) {
      h.push(put(1, 'busy', `v${i}`, [i * 10, i * 10 + 4]), get(2, 'busy', `v${i}`, [i * 10 + 5, i * 10 + 6]));
      h.push(put(3, 'other', `w${i}`, [i * 10, i * 10 + 4]));
    }
    h.push(get(2, 'busy', 'v250', [6000, 6001]));
    const r = checkLinearizability(h);
    expect(r.verdict).toBe('no');
    expect(r.results.find((x) => x.key === 'other')?.verdict).toBe('ok');
    expect(r.violations.map((v) => v.key)).toEqual(['busy']);
    expect(r.violations[0]!.ops).toHaveLength(3);
    expect(r.violations[0]!.reason).toMatch(/returned v250, but v250 was overwritten by put v251/);
  });
});

describe('linearizability checker: bounds', () => {
  // 14 puts all concurrent with each other and with 14 reads that each pin a different order: a large search.
  const wide: HistoryOp[] = [];
  for (let i = 0; i < 14; i++) wide.push(put(i, 'k', `v${i}`, [0, 100]));
  for (let i = 0; i < 14; i++) wide.push(get(20 + i, 'k', `v${13 - i}`, [1 + i * 2, 2 + i * 2]));
  wide.push(get(40, 'k', 'v0', [200, 201]));

  it('says unknown, not yes, when the state bound is hit', () => {
    const r = checkLinearizability(wide, { maxStatesPerKey: 5 });
    expect(r.verdict).toBe('unknown');
    expect(r.results[0]).toMatchObject({ key: 'k', verdict: 'unknown', bound: 'states' });
    expect(checkLinearizability(wide).verdict).toBe('yes');
  });

  it('says unknown, not yes, when the time budget is spent', () => {
    const big: HistoryOp[] = [];
    for (let i = 0; i < 20_000; i++) big.push(put(1, 'k', `v${i}`, [i, i + 0.5]));
    const r = checkLinearizability(big, { timeBudgetMsPerKey: 0 });
    expect(r.verdict).toBe('unknown');
    expect(r.results[0]).toMatchObject({ verdict: 'unknown', bound: 'time' });
  });

  it('still says no when one key violates and another hits a bound', () => {
    const h = [...wide, put(1, 'x', 'a', [0, 1]), get(2, 'x', 'zzz', [2, 3])];
    const r = checkLinearizability(h, { maxStatesPerKey: 5 });
    expect(r.verdict).toBe('no');
    expect(r.results.map((x) => x.verdict)).toEqual(['unknown', 'violation']);
    expect(r.counts).toEqual({ ok: 0, violation: 1, unknown: 1 });
  });
});
