/**
 * CRC-32C (Castagnoli), the checksum of iSCSI, ext4 metadata and LevelDB's own
 * blocks. Table-driven, one byte at a time: records are small and the log is
 * written far less often than it is checksummed on start, so this is plenty.
 */
const POLY_REFLECTED = 0x82f63b78;

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * The CRC-32C of `data`. Pass the result of a previous call as `previous` to
 * checksum several pieces as if they were one (`crc32c(b, crc32c(a))` equals
 * the checksum of a followed by b).
 */
export function crc32c(data: Uint8Array, previous = 0): number {
  let c = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const MASK_DELTA = 0xa282ead8;

/** LevelDB stores a CRC masked (rotated and offset) so that checksumming data that holds CRCs stays strong; this undoes it. */
export function unmaskCrc(masked: number): number {
  const rot = (masked - MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}
