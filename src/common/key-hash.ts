/**
 * Which shard a key lives in (DESIGN.md §4), shared by the coordinator, the
 * data nodes and the smart client, so all three must agree forever:
 *
 *   shard = FNV-1a-32(UTF-8 bytes of the key) mod shards
 *
 * FNV-1a 32-bit: offset basis 0x811c9dc5, prime 0x01000193, the hash taken as
 * an unsigned 32-bit integer. Simple enough to re-implement in any client
 * language from this comment, and it spreads short, similar keys well.
 * A string with a lone surrogate is hashed as TextEncoder encodes it (U+FFFD);
 * the API accepts well-formed keys only. Changing the shard count moves keys:
 * it is fixed when the cluster is created.
 */
const OFFSET_BASIS = 0x811c9dc5;
const PRIME = 0x01000193;
const encoder = new TextEncoder();

export function fnv1a32(bytes: Uint8Array): number {
  let hash = OFFSET_BASIS;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, PRIME);
  return hash >>> 0;
}

export function keyHash(key: string): number {
  return fnv1a32(encoder.encode(key));
}

export function shardForKey(key: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError(`shardForKey: shard count must be a positive integer, got ${shards}`);
  return keyHash(key) % shards;
}
