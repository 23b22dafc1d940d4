import { ByteWriter } from '../../common/bytes.js';

/**
 * The first byte of every key of a data node's LevelDB. Values are part of
 * the on-disk format: never renumber, only add.
 */
export enum ShardKeyPrefix {
  /** The format version of the whole store (one record). */
  FormatVersion = 0x01,
  /** Followed by the shard id (4 bytes big-endian): that copy's metadata. */
  ShardMeta = 0x02,
  /**
   * Followed by the shard id (4 bytes big-endian) and the key's UTF-8 bytes,
   * so one shard's keys are one contiguous range, in key order.
   */
  ShardData = 0x10,
}

const PREFIX_BYTES = 5;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export const FORMAT_KEY = Uint8Array.of(ShardKeyPrefix.FormatVersion);

function shardPrefix(prefix: ShardKeyPrefix, shard: number): ByteWriter {
  return new ByteWriter(PREFIX_BYTES).u8(prefix).u32(shard);
}

export function metaKey(shard: number): Uint8Array {
  return shardPrefix(ShardKeyPrefix.ShardMeta, shard).finish();
}

export function dataKey(shard: number, key: string): Uint8Array {
  return shardPrefix(ShardKeyPrefix.ShardData, shard).raw(encoder.encode(key)).finish();
}

/** Bounds of one shard's data keys (`gte`/`lt`, as LevelDB iterators take them). */
export function dataRange(shard: number): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: shardPrefix(ShardKeyPrefix.ShardData, shard).finish(), lt: shardPrefix(ShardKeyPrefix.ShardData, shard + 1).finish() };
}

/** Bounds of every metadata record. */
export const META_RANGE = { gte: Uint8Array.of(ShardKeyPrefix.ShardMeta), lt: Uint8Array.of(ShardKeyPrefix.ShardMeta + 1) };

/** The shard id of a metadata key. */
export function shardOfMetaKey(key: Uint8Array): number | undefined {
  if (key.length !== PREFIX_BYTES || key[0] !== ShardKeyPrefix.ShardMeta) return undefined;
  return new DataView(key.buffer, key.byteOffset, key.byteLength).getUint32(1);
}

/** The data key's user key (the part after prefix and shard id). */
export function userKeyOf(key: Uint8Array): string {
  return decoder.decode(key.subarray(PREFIX_BYTES));
}
