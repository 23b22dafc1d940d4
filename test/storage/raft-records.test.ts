import { describe, expect, it } from 'vitest';
import { EntryType } from '../../src/raft/index.js';
import { ByteWriter, DecodeError } from '../../src/common/bytes.js';
import { crc32c } from '../../src/storage/crc32c.js';
import { entryKey, KeyPrefix, parseKey, singletonKey } from '../../src/storage/raft-keys.js';
import {
  appliedRecord,
  decodeApplied,
  decodeEntry,
  decodeFormat,
  decodeHardState,
  decodeSnapshotData,
  decodeSnapshotMeta,
  decodeSummary,
  entryRecord,
  formatRecord,
  hardStateRecord,
  snapshotDataRecord,
  snapshotMetaRecord,
  summaryRecord,
} from '../../src/storage/raft-records.js';
import { bytes, entry, snapshot } from './helpers.js';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('crc32c', () => {
  it('matches the published check value and the RFC 3720 (iSCSI) vectors', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it('checksums pieces as if they were one', () => {
    const all = ascii('hello, raft log');
    expect(crc32c(all.subarray(5), crc32c(all.subarray(0, 5)))).toBe(crc32c(all));
  });
});

describe('keys', () => {
  it('orders entry keys by index under byte comparison', () => {
    const indexes = [1, 2, 255, 256, 65_535, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER];
    const sorted = indexes.map(entryKey).sort((a, b) => Buffer.compare(a, b));
    expect(sorted.map((k) => parseKey(k))).toEqual(indexes.map((index) => ({ prefix: KeyPrefix.Entry, index })));
  });

  it('parses only the keys this format writes', () => {
    expect(parseKey(singletonKey(KeyPrefix.HardState))).toEqual({ prefix: KeyPrefix.HardState });
    for (const junk of [new Uint8Array(0), Uint8Array.of(0x7f), Uint8Array.of(KeyPrefix.HardState, 0), entryKey(3).subarray(0, 8), Uint8Array.of(0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)]) {
      expect(parseKey(junk)).toBeUndefined();
    }
  });
});

describe('records', () => {
  it('round-trip', () => {
    expect(decodeFormat(formatRecord().value)).toBe(1);
    const summary = { hasSnapshot: true, snapshotIndex: 7, lastIndex: 2 ** 40, hasHardState: true, hasApplied: false };
    expect(decodeSummary(summaryRecord(summary).value)).toEqual(summary);
    const hs = { term: 2 ** 50, vote: 'c-ü', commit: 12 };
    expect(decodeHardState(hardStateRecord(hs).value)).toEqual(hs);
    expect(decodeApplied(appliedRecord(99).value)).toBe(99);
    const snap = snapshot(9, 3, 500);
    expect(decodeSnapshotMeta(snapshotMetaRecord(snap.meta, snap.data).value)).toEqual({ meta: snap.meta, dataLength: 500, dataCrc: crc32c(snap.data) });
    expect(decodeSnapshotData(snapshotDataRecord(snap.data).value)).toEqual(snap.data);
    for (const e of [entry(1, 1), entry(2 ** 33, 5, 0, EntryType.Noop), entry(3, 2, 5_000, EntryType.ConfChange)]) {
      expect(decodeEntry(e.index, entryRecord(e).value)).toEqual(e);
    }
  });

  it('fail their checksum on any flipped byte, and when moved to another key', () => {
    const { value } = entryRecord(entry(42, 3, 20));
    for (let i = 0; i < value.length; i++) {
      const bad = value.slice();
      bad[i]! ^= 0x01;
      expect(() => decodeEntry(42, bad), `byte ${i}`).toThrow(new DecodeError('checksum mismatch'));
    }
    expect(() => decodeEntry(43, value)).toThrow(DecodeError);
    expect(() => decodeHardState(appliedRecord(3).value)).toThrow(DecodeError);
  });

  it('are bounds-checked: a short body with a matching checksum is a DecodeError, never a RangeError', () => {
    const key = entryKey(5);
    const body = new ByteWriter().u64(1).u8(EntryType.Normal).bytes(bytes(10, 1)).finish();
    const reframe = (b: Uint8Array) => new ByteWriter().u32(crc32c(b, crc32c(key))).raw(b).finish();
    for (let cut = 0; cut < body.length; cut++) {
      expect(() => decodeEntry(5, reframe(body.subarray(0, cut))), `cut at ${cut}`).toThrow(DecodeError);
    }
    expect(() => decodeEntry(5, reframe(Uint8Array.of(...body, 0)))).toThrow(/trailing/);
    for (const short of [new Uint8Array(0), Uint8Array.of(1, 2)]) expect(() => decodeEntry(5, short)).toThrow(/truncated/);
    const hugeCount = new ByteWriter().u64(1).u64(1).u32(0xffffffff).finish();
    const metaKey = singletonKey(KeyPrefix.SnapshotMeta);
    expect(() => decodeSnapshotMeta(new ByteWriter().u32(crc32c(hugeCount, crc32c(metaKey))).raw(hugeCount).finish())).toThrow(DecodeError);
  });
});
