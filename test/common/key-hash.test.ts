import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { fnv1a32, keyHash, shardForKey } from '../../src/common/key-hash.js';

describe('key-hash: FNV-1a 32 of the UTF-8 bytes, mod shards', () => {
  test('the published FNV-1a 32 test vectors', () => {
    expect(keyHash('')).toBe(0x811c9dc5);
    expect(keyHash('a')).toBe(0xe40c292c);
    expect(keyHash('foobar')).toBe(0xbf9cf968);
  });

  // Answers computed with an independent implementation (Python, hashing s.encode('utf-8')).
  test.each([
    ['user@example.com', 0xddaa05fb, 3],
    ['path/to/x', 0x430ee139, 1],
    ['hello world', 0xd58b3fa7, 7],
    [' ', 0x250c8f7f, 7],
    ['数字', 0xe4d98c0f, 7],
    ['🙂', 0x57a37a4b, 3],
    ['key-1', 0x57e03446, 6],
    ['key-2', 0x56e032b3, 3],
  ])('%j hashes to %i, shard %i of 8', (key, hash, shard) => {
    expect(keyHash(key)).toBe(hash);
    expect(shardForKey(key, 8)).toBe(shard);
  });

  test('other shard counts use the same hash', () => {
    expect(shardForKey('user@example.com', 16)).toBe(0xddaa05fb % 16);
    expect(shardForKey('数字', 7)).toBe(5);
    expect(shardForKey('anything', 1)).toBe(0);
  });

  test('the hash is of the UTF-8 bytes: the same as hashing the encoded bytes', () => {
    expect(keyHash('数字')).toBe(fnv1a32(new Uint8Array([0xe6, 0x95, 0xb0, 0xe5, 0xad, 0x97])));
  });

  test('always an unsigned 32-bit integer and a shard in range', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 64 }), fc.integer({ min: 1, max: 4096 }), (key, shards) => {
        const h = keyHash(key);
        expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
        const s = shardForKey(key, shards);
        expect(s).toBe(h % shards);
        expect(s >= 0 && s < shards).toBe(true);
      }),
    );
  });

  test('keys spread over the shards', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[shardForKey(`key-${i}`, 8)]! += 1;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });

  test('a shard count that is not a positive integer is a programming error', () => {
    expect(() => shardForKey('k', 0)).toThrow(RangeError);
    expect(() => shardForKey('k', 2.5)).toThrow(RangeError);
    expect(() => shardForKey('k', Number.NaN)).toThrow(RangeError);
  });
});
