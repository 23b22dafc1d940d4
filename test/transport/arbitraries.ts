// fast-check generators for every Raft message type, within the codec's limits.
import fc from 'fast-check';
import { EntryType, type ConfState, type Entry, type Message, type Snapshot } from '../../src/raft/index.js';
import { utf8Length } from '../../src/common/bytes.js';
import { MAX_ID_BYTES, MAX_REQUEST_ID_BYTES } from '../../src/transport/limits.js';

const str = (maxBytes: number, maxLength: number) =>
  fc.string({ unit: 'binary', maxLength }).filter((s) => utf8Length(s) <= maxBytes);

/** Mostly short ASCII ids, sometimes any code point, sometimes right at the 64-byte limit. */
export const idArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 8 }) },
  { weight: 2, arbitrary: str(MAX_ID_BYTES, 20) },
  { weight: 1, arbitrary: fc.constant('x'.repeat(MAX_ID_BYTES)) },
  { weight: 1, arbitrary: fc.constant('é'.repeat(MAX_ID_BYTES / 2)) },
);

/** Small numbers most of the time (real terms), the whole safe range otherwise. */
export const numArb: fc.Arbitrary<number> = fc.oneof(fc.nat(1000), fc.maxSafeNat(), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(2 ** 32), fc.constant(2 ** 32 - 1));

const dataArb = fc.uint8Array({ maxLength: 300 });

export const entryArb: fc.Arbitrary<Entry> = fc.record({
  index: numArb,
  term: numArb,
  type: fc.constantFrom(EntryType.Normal, EntryType.Noop, EntryType.ConfChange),
  data: dataArb,
});

const confArb: fc.Arbitrary<ConfState> = fc.record({ voters: fc.array(idArb, { maxLength: 7 }), learners: fc.array(idArb, { maxLength: 3 }) });

export const snapshotArb: fc.Arbitrary<Snapshot> = fc.record({
  meta: fc.record({ index: numArb, term: numArb, conf: confArb }),
  data: fc.uint8Array({ maxLength: 4096 }),
});

const base = { from: idArb, to: idArb, term: numArb };

export const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ ...base, type: fc.constantFrom('vote' as const, 'preVote' as const), lastIndex: numArb, lastTerm: numArb, transfer: fc.boolean() }),
  fc.record({ ...base, type: fc.constantFrom('voteResp' as const, 'preVoteResp' as const), reject: fc.boolean() }),
  fc.record({ ...base, type: fc.constant('app' as const), prevIndex: numArb, prevTerm: numArb, entries: fc.array(entryArb, { maxLength: 8 }), commit: numArb }),
  fc.record({ ...base, type: fc.constant('appResp' as const), reject: fc.boolean(), index: numArb, hintIndex: numArb, hintTerm: numArb }),
  fc.record({ ...base, type: fc.constant('heartbeat' as const), commit: numArb, readSeq: numArb }),
  fc.record({ ...base, type: fc.constant('heartbeatResp' as const), readSeq: numArb }),
  fc.record({ ...base, type: fc.constant('snap' as const), snapshot: snapshotArb }),
  fc.record({ ...base, type: fc.constant('timeoutNow' as const) }),
  fc.record({ ...base, type: fc.constant('prop' as const), entries: fc.array(fc.record({ data: dataArb }), { maxLength: 8 }) }),
  fc.record({ ...base, type: fc.constant('readIndex' as const), requestId: str(MAX_REQUEST_ID_BYTES, 80) }),
  fc.record({ ...base, type: fc.constant('readIndexResp' as const), requestId: str(MAX_REQUEST_ID_BYTES, 80), index: numArb, reject: fc.boolean() }),
  fc.record({ ...base, type: fc.constant('transferLeader' as const), target: idArb }),
);
