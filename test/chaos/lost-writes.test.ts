import { describe, expect, it } from 'vitest';
import { findLostWrites } from '../../scripts/chaos/linearizability/index.js';
import { del, get, put } from './ops.js';

const finals = (entries: [string, string | null][]) => new Map(entries);

describe('lost acknowledged writes (check b)', () => {
  it('finds nothing lost when the final read shows the last acknowledged write', () => {
    const h = [put(1, 'k', 'v1', [0, 1]), put(1, 'k', 'v2', [2, 3]), put(2, 'j', 'x', [0, 1]), del(2, 'j', [2, 3])];
    expect(findLostWrites(h, finals([['k', 'v2'], ['j', null]]))).toEqual({ lost: [], unread: [] });
  });

  it('reports an acknowledged put that the final read does not show', () => {
    const h = [put(1, 'k', 'v1', [0, 1]), put(1, 'k', 'v2', [2, 3])];
    expect(findLostWrites(h, finals([['k', 'v1']])).lost).toEqual([{ key: 'k', found: 'v1', writes: [h[1]] }]);
    expect(findLostWrites(h, finals([['k', null]])).lost).toEqual([{ key: 'k', found: null, writes: [h[1]] }]);
  });

  it('reports an acknowledged delete whose key came back', () => {
    const h = [put(1, 'k', 'v1', [0, 1]), del(1, 'k', [2, 3])];
    expect(findLostWrites(h, finals([['k', 'v1']])).lost).toEqual([{ key: 'k', found: 'v1', writes: [h[1]] }]);
  });

  it('accepts a later unknown write having replaced or deleted it, whenever it was invoked', () => {
    const h = [put(2, 'k', 'v0', [0, null], 'unknown'), put(1, 'k', 'v1', [1, 2]), del(3, 'k', [0.5, 1], 'unknown')];
    for (const found of ['v1', 'v0', null]) expect(findLostWrites(h, finals([['k', found]])).lost).toEqual([]);
  });

  it('accepts either of two concurrent acknowledged writes, and reports both when neither is read', () => {
    const h = [put(1, 'k', 'a', [0, 5]), put(2, 'k', 'b', [1, 4])];
    expect(findLostWrites(h, finals([['k', 'a']])).lost).toEqual([]);
    expect(findLostWrites(h, finals([['k', 'b']])).lost).toEqual([]);
    expect(findLostWrites(h, finals([['k', null]])).lost).toEqual([{ key: 'k', found: null, writes: h }]);
  });

  it('ignores failed writes and reads, and keys without an acknowledged write', () => {
    const h = [put(1, 'k', 'v1', [0, 1]), put(1, 'k', 'v2', [2, 3], 'fail'), get(2, 'k', 'v1', [4, 5]), put(3, 'j', 'x', [0, 1], 'fail')];
    expect(findLostWrites(h, finals([['k', 'v1']]))).toEqual({ lost: [], unread: [] });
    expect(findLostWrites(h, finals([['k', 'v2']])).lost).toEqual([{ key: 'k', found: 'v2', writes: [h[0]] }]);
  });

  it('lists keys with acknowledged writes that have no final read instead of guessing', () => {
    const h = [put(1, 'k', 'v1', [0, 1]), put(1, 'j', 'x', [0, 1])];
    expect(findLostWrites(h, finals([['k', 'v1']]))).toEqual({ lost: [], unread: ['j'] });
  });
});
