// The data path's batch frame: what is encoded decodes to the same, and any
// truncation, extension or bad field is refused naming the field, never a crash.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/common/bytes.js';
import {
  decodeDataBatchAnswers,
  decodeDataBatchRequests,
  encodeDataBatchAnswers,
  encodeDataBatchRequests,
  MAX_DATA_BATCH_REQUESTS,
  type DataBatchRequest,
} from '../../src/data-wire/batch-frame.js';

const bytes = fc.uint8Array({ maxLength: 40 });
const requestArb: fc.Arbitrary<DataBatchRequest> = fc.oneof(
  fc.record({ method: fc.constantFrom('GET' as const, 'DELETE' as const), target: fc.string({ maxLength: 60, unit: 'grapheme' }) }),
  fc.record({ method: fc.constant('PUT' as const), target: fc.string({ maxLength: 60, unit: 'grapheme' }), value: bytes }),
);
const answerArb = fc.record({ status: fc.integer({ min: 100, max: 599 }), body: bytes });
const plain = <T extends { value?: Uint8Array; body?: Uint8Array }>(x: T) => ({ ...x, ...(x.value === undefined ? {} : { value: [...x.value] }), ...(x.body === undefined ? {} : { body: [...x.body] }) });

describe('data batch frame', () => {
  it('round-trips requests and answers, and refuses every cut or extended frame', () => {
    fc.assert(
      fc.property(fc.array(requestArb, { minLength: 1, maxLength: 12 }), fc.array(answerArb, { minLength: 1, maxLength: 12 }), (requests, answers) => {
        const frame = encodeDataBatchRequests(requests);
        expect(decodeDataBatchRequests(frame).map(plain)).toEqual(requests.map(plain));
        const answerFrame = encodeDataBatchAnswers(answers);
        expect(decodeDataBatchAnswers(answerFrame, answers.length).map(plain)).toEqual(answers.map(plain));
        for (let cut = 0; cut < frame.length; cut++) expect(() => decodeDataBatchRequests(frame.subarray(0, cut))).toThrow(DecodeError);
        for (let cut = 0; cut < answerFrame.length; cut++) expect(() => decodeDataBatchAnswers(answerFrame.subarray(0, cut), answers.length)).toThrow(DecodeError);
        expect(() => decodeDataBatchRequests(Uint8Array.of(...frame, 0))).toThrow(/trailing/);
        expect(() => decodeDataBatchAnswers(answerFrame, answers.length + 1)).toThrow(/answers to/);
      }),
      { numRuns: 300, seed: 20261208 },
    );
  });

  it('never throws anything but a DecodeError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        for (const decode of [() => decodeDataBatchRequests(input), () => decodeDataBatchAnswers(input, 1)]) {
          try {
            decode();
          } catch (err) {
            expect(err).toBeInstanceOf(DecodeError);
          }
        }
      }),
      { numRuns: 10_000, seed: 20261208 },
    );
  });

  it('names the field it refuses', () => {
    expect(() => decodeDataBatchRequests(Uint8Array.of(1, 0, 1, 3, 0, 0))).toThrow(/requests\[0\]\.method: 3 is not one of 0\.\.2/);
    expect(() => decodeDataBatchRequests(Uint8Array.of(1, 0, 0))).toThrow(/at least one request/);
    expect(() => decodeDataBatchRequests(Uint8Array.of(1, 0x01, 0x01))).toThrow(/count: 257 items, at most 256/);
    expect(() => decodeDataBatchRequests(Uint8Array.of(2, 0, 1, 0, 0, 0))).toThrow(/version: 2/);
    expect(() => decodeDataBatchRequests(Uint8Array.of(1, 0, 1, 0, 0x10, 0x01))).toThrow(/requests\[0\]\.target: 4097 bytes, at most 4096/);
    expect(() => decodeDataBatchRequests(Uint8Array.of(1, 0, 1, 1, 0, 0, 0xff, 0xff, 0xff, 0xff))).toThrow(/requests\[0\]\.value: truncated/);
    expect(() => decodeDataBatchAnswers(Uint8Array.of(1, 0, 1, 0, 99, 0, 0, 0, 0), 1)).toThrow(/answers\[0\]\.status: 99/);
    expect(() => encodeDataBatchRequests([])).toThrow(RangeError);
    expect(() => encodeDataBatchRequests(Array.from({ length: MAX_DATA_BATCH_REQUESTS + 1 }, () => ({ method: 'GET' as const, target: '/data/k' })))).toThrow(RangeError);
  });
});
