import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32c, unmaskCrc } from './crc32c.js';
import { readIfPresent } from './leveldb-files.js';

/**
 * Verifies LevelDB's log-format files (the write-ahead logs and the current
 * MANIFEST) before LevelDB recovers them.
 *
 * LevelDB reads a record whose length runs past the end of the file as a
 * write torn by a crash and drops it, with everything after it, silently: right
 * for a torn write, but a damaged length field looks the same, and on the
 * last 32 KiB block of the log that silently loses synced batches (a vote, an
 * acknowledged entry). The two can be told apart: a torn record's stored
 * checksum (written in full in its header) matches none of the bytes that
 * made it to disk, while a record whose length field was damaged is complete
 * and its checksum matches it at its true length.
 *
 * Format (LevelDB doc/log_format.md): 32 KiB blocks; records never cross a
 * block: 4-byte masked CRC-32C of type and payload, 2-byte length, 1-byte type
 * (1 full, 2 first, 3 middle, 4 last), payload. Fewer than 7 bytes left in a
 * block are zero padding.
 */

const BLOCK_BYTES = 32 * 1024;
const HEADER_BYTES = 7;

/** The payload length at which the record at `p` checksums, if any (the record is complete there). */
function checksumLength(log: Uint8Array, p: number, blockEnd: number, expected: number): number | undefined {
  let crc = crc32c(log.subarray(p + 6, p + 7)); // the type byte comes first
  for (let len = 0; ; len++) {
    if (crc === expected) return len;
    const at = p + HEADER_BYTES + len;
    if (at >= blockEnd) return undefined;
    crc = crc32c(log.subarray(at, at + 1), crc);
  }
}

/** Undefined when every record checks out (a torn last record allowed). */
export function logDamage(log: Uint8Array): string | undefined {
  const view = new DataView(log.buffer, log.byteOffset, log.byteLength);
  for (let block = 0; block < log.length; block += BLOCK_BYTES) {
    const blockEnd = Math.min(block + BLOCK_BYTES, log.length);
    let p = block;
    while (blockEnd - p >= HEADER_BYTES) {
      const masked = view.getUint32(p, true);
      const expected = unmaskCrc(masked);
      const len = view.getUint16(p + 4, true);
      const type = log[p + 6]!;
      if (masked === 0 && len === 0 && type === 0) {
        // Zero padding: LevelDB skips the rest of the block, so it must be all zero.
        if (log.subarray(p, blockEnd).some((b) => b !== 0)) return `data after zero padding at offset ${p}`;
        break;
      }
      const end = p + HEADER_BYTES + len;
      if (end > blockEnd) {
        const complete = checksumLength(log, p, blockEnd, expected);
        if (complete !== undefined) return `record at offset ${p} is complete at ${complete} bytes but its length field says ${len}`;
        if (blockEnd === log.length) return undefined; // a write torn by a crash: never acknowledged as synced
        return `record at offset ${p} runs past its block`;
      }
      if (type < 1 || type > 4) return `record at offset ${p} has unknown type ${type}`;
      if (crc32c(log.subarray(p + 7, end), crc32c(log.subarray(p + 6, p + 7))) !== expected) {
        return `record at offset ${p}: checksum mismatch`;
      }
      p = end;
    }
  }
  return undefined;
}

export interface LogDamage {
  readonly file: string;
  readonly problem: string;
}

/** The first damaged write-ahead log or current MANIFEST of `dir`, if any. */
export async function findLogDamage(dir: string): Promise<LogDamage | undefined> {
  const names = await readdir(dir);
  const current = names.includes('CURRENT') ? (await readFile(path.join(dir, 'CURRENT'), 'utf8')).trim() : undefined;
  const logs = names.filter((n) => n.endsWith('.log') || n === current).sort();
  for (const file of logs) {
    const log = await readIfPresent(path.join(dir, file));
    if (log === undefined) continue; // deleted meanwhile: not ours to judge
    const problem = logDamage(log);
    if (problem !== undefined) return { file, problem };
  }
  return undefined;
}
