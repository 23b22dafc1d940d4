import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter, DecodeError } from '../../src/common/bytes.js';

describe('ByteReader and ByteWriter', () => {
  it('read back what was written', () => {
    const bytes = new ByteWriter(4).u8(7).u32(0xfeed_beef).u64(2 ** 53 - 1).bytes(Uint8Array.of(1, 2, 3)).string('clé').raw(Uint8Array.of(9)).finish();
    const r = new ByteReader(bytes);
    expect([r.u8(), r.u32(), r.u64(), [...r.bytes()], r.string(), [...r.raw(1)]]).toEqual([7, 0xfeed_beef, 2 ** 53 - 1, [1, 2, 3], 'clé', [9]]);
    expect(() => r.end()).not.toThrow();
  });

  it('never hands out the caller buffer: what it reads survives the input being overwritten', () => {
    const input = new ByteWriter().bytes(Uint8Array.of(5, 6)).finish();
    const got = new ByteReader(input).bytes();
    input.fill(0);
    expect([...got]).toEqual([5, 6]);
  });

  it('throws a DecodeError naming the field for a short, oversized or overlong input', () => {
    expect(() => new ByteReader(Uint8Array.of(1, 2)).u32('term')).toThrow(new DecodeError('term: truncated, needs 4 bytes at offset 0, 2 left'));
    expect(() => new ByteReader(Uint8Array.of(0, 0x20, 0, 0, 0, 0, 0, 0)).u64('index')).toThrow(/index: .*exceeds 2\^53 - 1/);
    expect(() => new ByteReader(new ByteWriter().u32(1_000).finish()).bytes('data')).toThrow(/data: truncated/);
    expect(() => new ByteReader(Uint8Array.of(3, 0xff, 0xfe, 0xfd)).str8(10, 'id')).toThrow(/id: not valid UTF-8/);
    expect(() => new ByteReader(Uint8Array.of(0, 0, 0, 200)).count(100, 1, 'ids')).toThrow(/ids: 200 items, at most 100/);
    expect(() => new ByteReader(Uint8Array.of(0, 0, 0, 50)).count(100, 1, 'ids')).toThrow(/ids: 50 items cannot fit in 0 bytes/);
    const r = new ByteReader(Uint8Array.of(1, 0));
    r.u8();
    expect(() => r.end('record')).toThrow(/record: 1 unexpected trailing bytes/);
  });

  it('throws the error its owner chose', () => {
    class FrameError extends Error {}
    expect(() => new ByteReader(new Uint8Array(0), (m) => new FrameError(m)).u8('kind')).toThrow(FrameError);
  });
});
