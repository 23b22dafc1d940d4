import { ByteReader, ByteWriter } from '../common/bytes.js';

/**
 * The first byte of every key of the Raft log store. Each kind of record has
 * exactly one prefix; a key with any other first byte is corruption.
 * Values are part of the on-disk format: never renumber, only add.
 */
export enum KeyPrefix {
  /** The format version of the whole store (one record). */
  FormatVersion = 0x01,
  /** What the other records must add up to: snapshot index, last index, which singletons exist. */
  Summary = 0x02,
  HardState = 0x03,
  AppliedIndex = 0x04,
  SnapshotMeta = 0x05,
  SnapshotData = 0x06,
  /** Followed by the index as 8 bytes big-endian, so LevelDB orders entries by index. */
  Entry = 0x10,
}

export type SingletonPrefix = Exclude<KeyPrefix, KeyPrefix.Entry>;

export type ParsedKey = { readonly prefix: SingletonPrefix } | { readonly prefix: KeyPrefix.Entry; readonly index: number };

const singletons = new Map<number, Uint8Array>(
  [KeyPrefix.FormatVersion, KeyPrefix.Summary, KeyPrefix.HardState, KeyPrefix.AppliedIndex, KeyPrefix.SnapshotMeta, KeyPrefix.SnapshotData].map(
    (p) => [p, Uint8Array.of(p)],
  ),
);

export function singletonKey(prefix: SingletonPrefix): Uint8Array {
  return singletons.get(prefix)!;
}

export function entryKey(index: number): Uint8Array {
  return new ByteWriter(9).u8(KeyPrefix.Entry).u64(index).finish();
}

/** The key of a stored record, or undefined for a key this format never writes. */
export function parseKey(key: Uint8Array): ParsedKey | undefined {
  const prefix = key[0];
  if (prefix === undefined) return undefined;
  if (prefix === KeyPrefix.Entry) {
    if (key.length !== 9) return undefined;
    try {
      return { prefix, index: new ByteReader(key.subarray(1)).u64() };
    } catch {
      return undefined;
    }
  }
  return key.length === 1 && singletons.has(prefix) ? { prefix: prefix as SingletonPrefix } : undefined;
}

export function hex(key: Uint8Array): string {
  return Buffer.from(key).toString('hex');
}
