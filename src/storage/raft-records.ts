import { EntryType, type Entry, type HardState, type MemberId, type SnapshotMeta } from '../raft/index.js';
import { ByteReader, ByteWriter, DecodeError } from '../common/bytes.js';
import { crc32c } from './crc32c.js';
import { entryKey, KeyPrefix, singletonKey } from './raft-keys.js';

/**
 * Binary layouts of the Raft log store's records. Every value is
 * `crc32c(key ‖ body)` (4 bytes) followed by the body: the checksum covers
 * the key too, so a damaged key (an entry that moved to another index, a
 * record that turned into another kind) fails exactly like a damaged value.
 */

export const FORMAT_VERSION = 1;

export interface StoredRecord {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * Written with every batch. A record that silently vanished (LevelDB does
 * not verify its block checksums through this binding) leaves a hole that
 * contiguity alone cannot see at the end of the log or for a singleton.
 */
export interface StoreSummary {
  readonly hasSnapshot: boolean;
  /** 0 without a snapshot. */
  readonly snapshotIndex: number;
  /** Index of the last entry, or the snapshot index when no entry follows it. */
  readonly lastIndex: number;
  readonly hasHardState: boolean;
  readonly hasApplied: boolean;
}

export const EMPTY_SUMMARY: StoreSummary = { hasSnapshot: false, snapshotIndex: 0, lastIndex: 0, hasHardState: false, hasApplied: false };

/** Snapshot metadata also pins the data record by length and checksum, so data of another snapshot is caught. */
export interface StoredSnapshotMeta {
  readonly meta: SnapshotMeta;
  readonly dataLength: number;
  readonly dataCrc: number;
}

const CRC_BYTES = 4;

/** A writer for a value of `bodyBytes` (expected), with room for the checksum in front. */
function body(bodyBytes: number): ByteWriter {
  return new ByteWriter(CRC_BYTES + bodyBytes).u32(0);
}

/** Fills in the checksum of the value `w` wrote. */
function framed(key: Uint8Array, w: ByteWriter): StoredRecord {
  const value = w.finish();
  const crc = crc32c(value.subarray(CRC_BYTES), crc32c(key));
  new DataView(value.buffer, value.byteOffset, CRC_BYTES).setUint32(0, crc);
  return { key, value };
}

/** The body of a value, once its checksum holds. */
function unframe(key: Uint8Array, value: Uint8Array): ByteReader {
  if (value.length < CRC_BYTES) throw new DecodeError(`truncated: ${value.length} bytes, shorter than its checksum`);
  const stored = new DataView(value.buffer, value.byteOffset, CRC_BYTES).getUint32(0);
  const rest = value.subarray(CRC_BYTES);
  if (crc32c(rest, crc32c(key)) !== stored) throw new DecodeError('checksum mismatch');
  return new ByteReader(rest);
}

function decoded<T>(r: ByteReader, v: T): T {
  r.end();
  return v;
}

// ---- format version ------------------------------------------------------

export function formatRecord(version = FORMAT_VERSION): StoredRecord {
  return framed(singletonKey(KeyPrefix.FormatVersion), body(4).u32(version));
}

export function decodeFormat(value: Uint8Array): number {
  const r = unframe(singletonKey(KeyPrefix.FormatVersion), value);
  return decoded(r, r.u32());
}

// ---- summary -------------------------------------------------------------

const HAS_SNAPSHOT = 1;
const HAS_HARD_STATE = 2;
const HAS_APPLIED = 4;

export function summaryRecord(s: StoreSummary): StoredRecord {
  const flags = (s.hasSnapshot ? HAS_SNAPSHOT : 0) | (s.hasHardState ? HAS_HARD_STATE : 0) | (s.hasApplied ? HAS_APPLIED : 0);
  return framed(singletonKey(KeyPrefix.Summary), body(17).u8(flags).u64(s.snapshotIndex).u64(s.lastIndex));
}

export function decodeSummary(value: Uint8Array): StoreSummary {
  const r = unframe(singletonKey(KeyPrefix.Summary), value);
  const flags = r.u8();
  if (flags & ~(HAS_SNAPSHOT | HAS_HARD_STATE | HAS_APPLIED)) throw new DecodeError(`unknown flags ${flags}`);
  const snapshotIndex = r.u64();
  const lastIndex = r.u64();
  if (lastIndex < snapshotIndex) throw new DecodeError(`last index ${lastIndex} is before the snapshot index ${snapshotIndex}`);
  return decoded(r, {
    hasSnapshot: (flags & HAS_SNAPSHOT) !== 0,
    snapshotIndex,
    lastIndex,
    hasHardState: (flags & HAS_HARD_STATE) !== 0,
    hasApplied: (flags & HAS_APPLIED) !== 0,
  });
}

// ---- hard state, applied index -------------------------------------------

export function hardStateRecord(hs: HardState): StoredRecord {
  return framed(singletonKey(KeyPrefix.HardState), body(24 + hs.vote.length).u64(hs.term).string(hs.vote).u64(hs.commit));
}

export function decodeHardState(value: Uint8Array): HardState {
  const r = unframe(singletonKey(KeyPrefix.HardState), value);
  const term = r.u64();
  const vote: MemberId = r.string();
  return decoded(r, { term, vote, commit: r.u64() });
}

export function appliedRecord(index: number): StoredRecord {
  return framed(singletonKey(KeyPrefix.AppliedIndex), body(8).u64(index));
}

export function decodeApplied(value: Uint8Array): number {
  const r = unframe(singletonKey(KeyPrefix.AppliedIndex), value);
  return decoded(r, r.u64());
}

// ---- snapshot ------------------------------------------------------------

function idList(w: ByteWriter, ids: readonly MemberId[]): ByteWriter {
  w.u32(ids.length);
  for (const id of ids) w.string(id);
  return w;
}

function readIdList(r: ByteReader): MemberId[] {
  const n = r.u32();
  const ids: MemberId[] = [];
  // Each id takes at least its 4-byte length, so a damaged count fails here instead of looping for long.
  for (let i = 0; i < n; i++) ids.push(r.string());
  return ids;
}

export function snapshotMetaRecord(meta: SnapshotMeta, data: Uint8Array): StoredRecord {
  const w = body(64).u64(meta.index).u64(meta.term);
  idList(w, meta.conf.voters);
  idList(w, meta.conf.learners);
  return framed(singletonKey(KeyPrefix.SnapshotMeta), w.u32(data.length).u32(crc32c(data)));
}

export function decodeSnapshotMeta(value: Uint8Array): StoredSnapshotMeta {
  const r = unframe(singletonKey(KeyPrefix.SnapshotMeta), value);
  const index = r.u64();
  const term = r.u64();
  const voters = readIdList(r);
  const learners = readIdList(r);
  const dataLength = r.u32();
  return decoded(r, { meta: { index, term, conf: { voters, learners } }, dataLength, dataCrc: r.u32() });
}

export function snapshotDataRecord(data: Uint8Array): StoredRecord {
  return framed(singletonKey(KeyPrefix.SnapshotData), body(data.length).raw(data));
}

export function decodeSnapshotData(value: Uint8Array): Uint8Array {
  const r = unframe(singletonKey(KeyPrefix.SnapshotData), value);
  return r.raw(value.length - 4);
}

// ---- entries -------------------------------------------------------------

const ENTRY_TYPES = new Set<number>([EntryType.Normal, EntryType.Noop, EntryType.ConfChange]);

export function entryRecord(e: Entry): StoredRecord {
  return framed(entryKey(e.index), body(13 + e.data.length).u64(e.term).u8(e.type).bytes(e.data));
}

/** `index` comes from the key, which the checksum covers. */
export function decodeEntry(index: number, value: Uint8Array): Entry {
  const r = unframe(entryKey(index), value);
  const term = r.u64();
  const type = r.u8();
  if (!ENTRY_TYPES.has(type)) throw new DecodeError(`unknown entry type ${type}`);
  return decoded(r, { index, term, type: type as EntryType, data: r.bytes() });
}
