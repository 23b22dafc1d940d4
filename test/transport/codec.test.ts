import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { EntryType, type Message } from '../../src/raft/index.js';
import { ENTRY_TYPE_COUNT, decodeMessage, encodeMessage } from '../../src/transport/codec.js';
import { TransportError, TransportErrorCode } from '../../src/transport/errors.js';
import { MAX_ENTRIES_PER_MESSAGE, MAX_ID_BYTES, MAX_REQUEST_ID_BYTES } from '../../src/transport/limits.js';
import { messageArb } from './arbitraries.js';

const bytes = (...xs: number[]) => new Uint8Array(xs);
const roundTrip = (m: Message) => decodeMessage(encodeMessage(m));

function codeOf(fn: () => unknown): TransportErrorCode | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof TransportError) return e.code;
    throw e;
  }
  return undefined;
}

const b = { from: 'c1', to: 'c2', term: 7 };
const examples: Message[] = [
  { ...b, type: 'vote', lastIndex: 10, lastTerm: 6, transfer: false },
  { ...b, type: 'preVote', lastIndex: 2 ** 40, lastTerm: 6, transfer: true },
  { ...b, type: 'voteResp', reject: true },
  { ...b, type: 'preVoteResp', reject: false },
  {
    ...b,
    type: 'app',
    prevIndex: 9,
    prevTerm: 6,
    commit: 8,
    entries: [
      { index: 10, term: 7, type: EntryType.Noop, data: new Uint8Array(0) },
      { index: 11, term: 7, type: EntryType.Normal, data: bytes(0, 1, 2, 255, 0) },
      { index: 12, term: 7, type: EntryType.ConfChange, data: new TextEncoder().encode('{"change":{}}') },
    ],
  },
  { ...b, type: 'app', prevIndex: 0, prevTerm: 0, commit: 0, entries: [] },
  { ...b, type: 'appResp', reject: true, index: 9, hintIndex: 4, hintTerm: 3 },
  { ...b, type: 'heartbeat', commit: 8, readSeq: 3 },
  { ...b, type: 'heartbeatResp', readSeq: Number.MAX_SAFE_INTEGER },
  { ...b, type: 'snap', snapshot: { meta: { index: 100, term: 5, conf: { voters: ['c1', 'c2', 'c3'], learners: ['c4'] } }, data: new Uint8Array(5_000).fill(0xab) } },
  { ...b, type: 'timeoutNow' },
  { ...b, term: 0, type: 'prop', entries: [{ data: bytes(1) }, { data: new Uint8Array(0) }] },
  { ...b, term: 0, type: 'readIndex', requestId: 'r-1' },
  { ...b, term: 0, type: 'readIndexResp', requestId: 'r-1', index: 42, reject: false },
  { ...b, term: 0, type: 'transferLeader', target: 'c3' },
];

describe('codec: round trip', () => {
  test('the wire tag list covers every message type of the core', () => {
    expect(new Set(examples.map((m) => m.type)).size).toBe(14);
  });

  test('ENTRY_TYPE_COUNT matches the EntryType enum of src/raft', () => {
    const values = Object.values(EntryType).filter((v) => typeof v === 'number');
    expect(values.sort()).toEqual([...Array(ENTRY_TYPE_COUNT).keys()]);
  });

  test.each(examples.map((m) => [m.type, m] as const))('%s', (_type, m) => {
    expect(roundTrip(m)).toEqual(m);
  });

  test('decoded byte data is a plain Uint8Array that does not alias the input buffer', () => {
    const m = examples[4]!;
    const wire = encodeMessage(m);
    const back = decodeMessage(wire) as Extract<Message, { type: 'app' }>;
    const data = back.entries[1]!.data;
    expect(data.constructor).toBe(Uint8Array);
    wire.fill(0);
    expect([...data]).toEqual([0, 1, 2, 255, 0]);
  });

  test('any message within the limits survives encode → decode (property)', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        expect(roundTrip(m)).toEqual(m);
      }),
      { numRuns: 1000 },
    );
  });

  test('headroom is left zeroed in front of the message', () => {
    const m = examples[7]!;
    const plain = encodeMessage(m);
    const padded = encodeMessage(m, 5);
    expect([...padded.subarray(0, 5)]).toEqual([0, 0, 0, 0, 0]);
    expect(padded.subarray(5)).toEqual(plain);
  });
});

describe('codec: encode refuses what a receiver would refuse (INVALID_MESSAGE)', () => {
  const hb: Message = { ...b, type: 'heartbeat', commit: 1, readSeq: 1 };
  const cases: [string, unknown][] = [
    ['negative term', { ...hb, term: -1 }],
    ['fractional term', { ...hb, term: 1.5 }],
    ['NaN commit', { ...hb, commit: Number.NaN }],
    ['unsafe readSeq', { ...hb, readSeq: 2 ** 53 }],
    ['id longer than 64 bytes', { ...hb, from: 'x'.repeat(MAX_ID_BYTES + 1) }],
    ['multi-byte id over the limit', { ...hb, to: 'é'.repeat(MAX_ID_BYTES / 2 + 1) }],
    ['lone surrogate', { ...hb, from: 'a\ud800' }],
    ['unknown type', { ...hb, type: 'gossip' }],
    ['requestId too long', { ...b, type: 'readIndex', requestId: 'r'.repeat(MAX_REQUEST_ID_BYTES + 1) }],
    ['entry of unknown type', { ...b, type: 'app', prevIndex: 0, prevTerm: 0, commit: 0, entries: [{ index: 1, term: 1, type: 3, data: new Uint8Array() }] }],
    ['entry data not bytes', { ...b, type: 'app', prevIndex: 0, prevTerm: 0, commit: 0, entries: [{ index: 1, term: 1, type: 0, data: 'x' }] }],
    ['missing entries', { ...b, type: 'app', prevIndex: 0, prevTerm: 0, commit: 0 }],
    ['boolean that is not', { ...b, type: 'voteResp', reject: 0 }],
    ['null snapshot', { ...b, type: 'snap', snapshot: null }],
  ];
  test.each(cases)('%s', (_what, m) => {
    expect(codeOf(() => encodeMessage(m as Message))).toBe(TransportErrorCode.InvalidMessage);
  });

  test(`more than ${MAX_ENTRIES_PER_MESSAGE} entries`, () => {
    const entries = Array.from({ length: MAX_ENTRIES_PER_MESSAGE + 1 }, () => ({ data: new Uint8Array(0) }));
    expect(codeOf(() => encodeMessage({ ...b, term: 0, type: 'prop', entries }))).toBe(TransportErrorCode.InvalidMessage);
    expect(codeOf(() => encodeMessage({ ...b, term: 0, type: 'prop', entries: entries.slice(1) }))).toBeUndefined();
  });
});

describe('codec: decode refuses malformed input (BAD_FRAME)', () => {
  // tag 7 = heartbeatResp: u8 tag, str8 from, str8 to, u64 term, u64 readSeq
  const hbResp = (termHi: number, extra: number[] = []) => bytes(7, 1, 0x61, 1, 0x62, termHi >>> 24, (termHi >>> 16) & 0xff, (termHi >>> 8) & 0xff, termHi & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, ...extra);

  test('a well-formed hand-made encoding decodes', () => {
    expect(decodeMessage(hbResp(0))).toEqual({ type: 'heartbeatResp', from: 'a', to: 'b', term: 1, readSeq: 9 });
    expect(decodeMessage(hbResp(0x1f_ffff))).toMatchObject({ term: 0x1f_ffff * 2 ** 32 + 1 });
  });

  const cases: [string, Uint8Array][] = [
    ['empty', bytes()],
    ['unknown message type', bytes(14, 0, 0)],
    ['term ≥ 2^53', hbResp(0x20_0000)],
    ['trailing byte', hbResp(0, [0])],
    ['truncated', hbResp(0).subarray(0, 20)],
    ['id length beyond the limit', bytes(9, 65, ...new Array(65).fill(0x61))],
    ['id length beyond the buffer', bytes(9, 10, 0x61)],
    ['invalid UTF-8 id', bytes(9, 1, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0)],
    ['boolean byte 2', bytes(2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2)],
    // app: tag 4, ids, term, prevIndex, prevTerm, commit, then a u32 count of 1000 entries with no bytes behind it
    ['entry count beyond the bytes left', bytes(4, 0, 0, ...new Array(32).fill(0), 0, 0, 0x03, 0xe8)],
    ['entry count beyond the limit', bytes(4, 0, 0, ...new Array(32).fill(0), 0xff, 0xff, 0xff, 0xff)],
    ['entry of type 3', bytes(4, 0, 0, ...new Array(32).fill(0), 0, 0, 0, 1, ...new Array(16).fill(0), 3, 0, 0, 0, 0)],
    ['data length beyond the buffer', bytes(10, 0, 0, ...new Array(8).fill(0), 0, 0, 0, 1, 0, 0, 0, 9, 1)],
  ];
  test.each(cases)('%s', (_what, buf) => {
    expect(codeOf(() => decodeMessage(buf))).toBe(TransportErrorCode.BadFrame);
  });
});
