/**
 * Binary encoding of every Raft `Message` (no I/O). One message is:
 *
 *   u8 type · str8 from · str8 to · u64 term · the type's fields
 *
 * All numbers are big-endian; terms, indexes and sequence numbers are u64
 * whose value must stay a safe JS integer (< 2^53). Fixed 8 bytes instead of
 * a varint: decoding is a bounds check and two reads, and the bytes saved on
 * a heartbeat (~30 B) buy nothing on a LAN.
 *
 * decodeMessage trusts nothing: every length and count is checked against
 * the bytes that remain and against the limits in limits.ts, enums and
 * booleans must be in range, and trailing bytes are refused. Whatever is
 * wrong, it throws a TransportError (BAD_FRAME); encodeMessage refuses
 * (INVALID_MESSAGE) anything the decoder would refuse.
 */
import type { Entry, EntryType, Message, MessageType, MemberId, Snapshot } from '../raft/index.js';
import type { ByteReader } from '../common/bytes.js';
import { encodeWith, frameReader, type Sink } from './bytes.js';
import { TransportError, TransportErrorCode } from './errors.js';
import { MAX_CONF_MEMBERS, MAX_ENTRIES_PER_MESSAGE, MAX_ID_BYTES, MAX_REQUEST_ID_BYTES } from './limits.js';

/**
 * Wire tags. The order is the protocol: append new types at the end and
 * never reuse a number (bump PROTOCOL_VERSION for anything else).
 */
const TYPES = [
  'vote',
  'preVote',
  'voteResp',
  'preVoteResp',
  'app',
  'appResp',
  'heartbeat',
  'heartbeatResp',
  'snap',
  'timeoutNow',
  'prop',
  'readIndex',
  'readIndexResp',
  'transferLeader',
] as const satisfies readonly MessageType[];

// Fails to compile if a MessageType is missing from TYPES.
type Missing = Exclude<MessageType, (typeof TYPES)[number]>;
const everyTypeTagged: Missing extends never ? true : Missing = true;
void everyTypeTagged;

const TAG: ReadonlyMap<string, number> = new Map(TYPES.map((t, i) => [t, i]));

/**
 * EntryType values 0..2 (Normal, Noop, ConfChange). Only the type is imported
 * from src/raft (layer rule), so the count is spelled here; a test checks it
 * against the enum.
 */
export const ENTRY_TYPE_COUNT = 3;

/** u64 index, u64 term, u8 type, u32 data length. */
const MIN_ENTRY_BYTES = 21;
/** u32 data length. */
const MIN_PROPOSAL_BYTES = 4;
/** u8 length (the codec itself allows an empty id). */
const MIN_ID_BYTES = 1;

const invalid = (msg: string): TransportError => new TransportError(TransportErrorCode.InvalidMessage, msg);

function entryCount(n: number, what: string): number {
  if (n > MAX_ENTRIES_PER_MESSAGE) throw invalid(`${what}: ${n} entries, at most ${MAX_ENTRIES_PER_MESSAGE} per message`);
  return n;
}

function writeIds(s: Sink, ids: readonly MemberId[], what: string): void {
  if (ids.length > MAX_CONF_MEMBERS) throw invalid(`${what}: ${ids.length} members, at most ${MAX_CONF_MEMBERS}`);
  s.u16(ids.length);
  for (const id of ids) s.str8(id, MAX_ID_BYTES, what);
}

function writeEntry(s: Sink, e: Entry): void {
  s.u64(e.index, 'entry index');
  s.u64(e.term, 'entry term');
  if (!Number.isInteger(e.type) || e.type < 0 || e.type >= ENTRY_TYPE_COUNT) throw invalid(`entry type ${String(e.type)} is unknown`);
  s.u8(e.type);
  s.blob(e.data, 'entry data');
}

function writeSnapshot(s: Sink, snap: Snapshot): void {
  s.u64(snap.meta.index, 'snapshot index');
  s.u64(snap.meta.term, 'snapshot term');
  writeIds(s, snap.meta.conf.voters, 'snapshot voters');
  writeIds(s, snap.meta.conf.learners, 'snapshot learners');
  s.blob(snap.data, 'snapshot data');
}

function layout(s: Sink, m: Message): void {
  const tag = TAG.get(m.type);
  if (tag === undefined) throw invalid(`unknown message type ${String(m.type)}`);
  s.u8(tag);
  s.str8(m.from, MAX_ID_BYTES, 'from');
  s.str8(m.to, MAX_ID_BYTES, 'to');
  s.u64(m.term, 'term');
  switch (m.type) {
    case 'vote':
    case 'preVote':
      s.u64(m.lastIndex, 'lastIndex');
      s.u64(m.lastTerm, 'lastTerm');
      s.bool(m.transfer, 'transfer');
      return;
    case 'voteResp':
    case 'preVoteResp':
      s.bool(m.reject, 'reject');
      return;
    case 'app':
      s.u64(m.prevIndex, 'prevIndex');
      s.u64(m.prevTerm, 'prevTerm');
      s.u64(m.commit, 'commit');
      s.u32(entryCount(m.entries.length, 'app'));
      for (const e of m.entries) writeEntry(s, e);
      return;
    case 'appResp':
      s.bool(m.reject, 'reject');
      s.u64(m.index, 'index');
      s.u64(m.hintIndex, 'hintIndex');
      s.u64(m.hintTerm, 'hintTerm');
      return;
    case 'heartbeat':
      s.u64(m.commit, 'commit');
      s.u64(m.readSeq, 'readSeq');
      return;
    case 'heartbeatResp':
      s.u64(m.readSeq, 'readSeq');
      return;
    case 'snap':
      writeSnapshot(s, m.snapshot);
      return;
    case 'timeoutNow':
      return;
    case 'prop':
      s.u32(entryCount(m.entries.length, 'prop'));
      for (const e of m.entries) s.blob(e.data, 'proposal data');
      return;
    case 'readIndex':
      s.str16(m.requestId, MAX_REQUEST_ID_BYTES, 'requestId');
      return;
    case 'readIndexResp':
      s.str16(m.requestId, MAX_REQUEST_ID_BYTES, 'requestId');
      s.u64(m.index, 'index');
      s.bool(m.reject, 'reject');
      return;
    case 'transferLeader':
      s.str8(m.target, MAX_ID_BYTES, 'target');
      return;
  }
}

/**
 * The bytes of `m`, preceded by `headroom` zero bytes that the caller may
 * fill (the framing layer writes its header there and saves a copy).
 * Throws INVALID_MESSAGE for a message the decoder would refuse.
 */
export function encodeMessage(m: Message, headroom = 0): Uint8Array {
  try {
    return encodeWith((s) => layout(s, m), headroom);
  } catch (e) {
    if (e instanceof TransportError) throw e;
    // A value of the wrong shape (missing array, null snapshot …): still a refusal, not a crash.
    throw new TransportError(TransportErrorCode.InvalidMessage, `cannot encode message: ${(e as Error).message}`, { cause: e });
  }
}

function readIds(r: ByteReader, what: string): MemberId[] {
  const n = r.count16(MAX_CONF_MEMBERS, MIN_ID_BYTES, what);
  const ids: MemberId[] = [];
  for (let i = 0; i < n; i++) ids.push(r.str8(MAX_ID_BYTES, what));
  return ids;
}

function readEntries(r: ByteReader): Entry[] {
  const n = r.count(MAX_ENTRIES_PER_MESSAGE, MIN_ENTRY_BYTES, 'entry count');
  const entries: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const index = r.u64('entry index');
    const term = r.u64('entry term');
    const type = r.enumU8(ENTRY_TYPE_COUNT, 'entry type') as EntryType;
    const data = r.bytes('entry data');
    entries.push({ index, term, type, data });
  }
  return entries;
}

function readSnapshot(r: ByteReader): Snapshot {
  const index = r.u64('snapshot index');
  const term = r.u64('snapshot term');
  const voters = readIds(r, 'snapshot voters');
  const learners = readIds(r, 'snapshot learners');
  const data = r.bytes('snapshot data');
  return { meta: { index, term, conf: { voters, learners } }, data };
}

/** Decodes one message; any malformed input throws TransportError BAD_FRAME. Byte data is copied. */
export function decodeMessage(buf: Uint8Array): Message {
  const r = frameReader(buf);
  const type = TYPES[r.enumU8(TYPES.length, 'message type')]!;
  const from = r.str8(MAX_ID_BYTES, 'from');
  const to = r.str8(MAX_ID_BYTES, 'to');
  const term = r.u64('term');
  let m: Message;
  switch (type) {
    case 'vote':
    case 'preVote':
      m = { type, from, to, term, lastIndex: r.u64('lastIndex'), lastTerm: r.u64('lastTerm'), transfer: r.bool('transfer') };
      break;
    case 'voteResp':
    case 'preVoteResp':
      m = { type, from, to, term, reject: r.bool('reject') };
      break;
    case 'app':
      m = { type, from, to, term, prevIndex: r.u64('prevIndex'), prevTerm: r.u64('prevTerm'), commit: r.u64('commit'), entries: readEntries(r) };
      break;
    case 'appResp':
      m = { type, from, to, term, reject: r.bool('reject'), index: r.u64('index'), hintIndex: r.u64('hintIndex'), hintTerm: r.u64('hintTerm') };
      break;
    case 'heartbeat':
      m = { type, from, to, term, commit: r.u64('commit'), readSeq: r.u64('readSeq') };
      break;
    case 'heartbeatResp':
      m = { type, from, to, term, readSeq: r.u64('readSeq') };
      break;
    case 'snap':
      m = { type, from, to, term, snapshot: readSnapshot(r) };
      break;
    case 'timeoutNow':
      m = { type, from, to, term };
      break;
    case 'prop': {
      const n = r.count(MAX_ENTRIES_PER_MESSAGE, MIN_PROPOSAL_BYTES, 'proposal count');
      const entries: { data: Uint8Array }[] = [];
      for (let i = 0; i < n; i++) entries.push({ data: r.bytes('proposal data') });
      m = { type, from, to, term, entries };
      break;
    }
    case 'readIndex':
      m = { type, from, to, term, requestId: r.str16(MAX_REQUEST_ID_BYTES, 'requestId') };
      break;
    case 'readIndexResp':
      m = { type, from, to, term, requestId: r.str16(MAX_REQUEST_ID_BYTES, 'requestId'), index: r.u64('index'), reject: r.bool('reject') };
      break;
    case 'transferLeader':
      m = { type, from, to, term, target: r.str8(MAX_ID_BYTES, 'target') };
      break;
  }
  r.end(`${type} message`);
  return m;
}
