import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { crc32c, unmaskCrc } from './crc32c.js';
import { readIfPresent } from './leveldb-files.js';

/**
 * Verifies the block checksums of LevelDB's table files before LevelDB reads
 * them. The binding does not expose `paranoid_checks`/`verify_checksums`, and
 * without them LevelDB reads a damaged block as it is: a damaged key may hide
 * or resurrect a record, and some damage trips an assertion that aborts the
 * whole process (seen here: `ExtractUserKey: internal_key.size() >= 8`).
 *
 * Table layout (LevelDB doc/table_format.md): blocks, each followed by a
 * 1-byte compression type and a masked CRC-32C of contents and type; a
 * 48-byte footer with the handles (varint offset, varint size) of the
 * metaindex and index blocks and a magic number. The index and metaindex
 * blocks list the handles of every other block. The store writes tables
 * uncompressed (see RaftRepository.open), so the index block can be parsed.
 */

const FOOTER_BYTES = 48;
const TRAILER_BYTES = 5;
const MAGIC = Uint8Array.of(0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb);
const UNCOMPRESSED = 0;

export interface TableDamage {
  readonly file: string;
  readonly problem: string;
}

class Damage extends Error {}

interface Handle {
  readonly offset: number;
  readonly size: number;
}

function varint(buf: Uint8Array, at: { pos: number }, end: number): number {
  let v = 0;
  for (let shift = 0; shift < 63; shift += 7) {
    if (at.pos >= end) throw new Damage(`varint runs past its block at ${at.pos}`);
    const b = buf[at.pos++]!;
    v += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return v;
  }
  throw new Damage(`varint too long at ${at.pos}`);
}

function handle(buf: Uint8Array, at: { pos: number }, end: number): Handle {
  return { offset: varint(buf, at, end), size: varint(buf, at, end) };
}

/** The contents of the block at `h`, once its checksum holds. */
function block(table: Uint8Array, h: Handle, what: string): { contents: Uint8Array; type: number } {
  const end = h.offset + h.size;
  if (end + TRAILER_BYTES > table.length - FOOTER_BYTES) throw new Damage(`${what} block at ${h.offset} (+${h.size}) lies beyond the data`);
  const contents = table.subarray(h.offset, end);
  const type = table[end]!;
  const stored = new DataView(table.buffer, table.byteOffset + end + 1, 4).getUint32(0, true);
  if (crc32c(table.subarray(end, end + 1), crc32c(contents)) !== unmaskCrc(stored)) throw new Damage(`${what} block at ${h.offset}: checksum mismatch`);
  return { contents, type };
}

/** The values of a block's entries (for index and metaindex blocks: handles of other blocks). */
function blockValues(b: Uint8Array, what: string): Uint8Array[] {
  if (b.length < 4) throw new Damage(`${what} block too short`);
  const restarts = new DataView(b.buffer, b.byteOffset + b.length - 4, 4).getUint32(0, true);
  const end = b.length - 4 - 4 * restarts;
  if (end < 0) throw new Damage(`${what} block: ${restarts} restart points do not fit`);
  const values: Uint8Array[] = [];
  const at = { pos: 0 };
  while (at.pos < end) {
    varint(b, at, end); // bytes shared with the previous key
    const keyBytes = varint(b, at, end);
    const valueBytes = varint(b, at, end);
    const valueAt = at.pos + keyBytes;
    if (valueAt + valueBytes > end) throw new Damage(`${what} block: entry at ${at.pos} runs past the block`);
    values.push(b.subarray(valueAt, valueAt + valueBytes));
    at.pos = valueAt + valueBytes;
  }
  return values;
}

function listedBlocks(table: Uint8Array, h: Handle, what: string): Handle[] {
  const b = block(table, h, what);
  if (b.type !== UNCOMPRESSED) throw new Damage(`${what} block is compressed (type ${b.type}); this store writes uncompressed tables`);
  return blockValues(b.contents, what).map((v) => {
    const at = { pos: 0 };
    const inner = handle(v, at, v.length);
    if (at.pos !== v.length) throw new Damage(`${what} block: malformed block handle`);
    return inner;
  });
}

/** Undefined when every block of the table checks out. */
export function tableDamage(table: Uint8Array): string | undefined {
  try {
    const footer = table.length - FOOTER_BYTES;
    const at = { pos: footer };
    const metaindex = handle(table, at, table.length - MAGIC.length);
    const index = handle(table, at, table.length - MAGIC.length);
    for (const h of listedBlocks(table, metaindex, 'metaindex')) block(table, h, 'meta');
    for (const h of listedBlocks(table, index, 'index')) block(table, h, 'data');
    return undefined;
  } catch (e) {
    if (e instanceof Damage) return e.message;
    throw e;
  }
}

function hasMagic(table: Uint8Array): boolean {
  return table.length >= FOOTER_BYTES && MAGIC.every((b, i) => table[table.length - MAGIC.length + i] === b);
}

/**
 * The first damaged table of `dir`, if any. A file without the table magic
 * is skipped: either a table a crash left half-written (LevelDB deletes it,
 * never reads it) or one LevelDB itself rejects as "not an sstable" without
 * reading further. Reads whole files: a coordinator's log is small.
 */
export async function findTableDamage(dir: string): Promise<TableDamage | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  for (const file of names.filter((n) => n.endsWith('.ldb') || n.endsWith('.sst')).sort()) {
    const table = await readIfPresent(path.join(dir, file));
    if (table === undefined) continue; // deleted meanwhile: not ours to judge
    if (!hasMagic(table)) continue;
    const problem = tableDamage(table);
    if (problem !== undefined) return { file, problem };
  }
  return undefined;
}
