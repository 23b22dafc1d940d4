// Whatever bytes arrive, the decoders either return a value or throw a TransportError: never another exception.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeMessage, encodeMessage } from '../../src/transport/codec.js';
import { TransportError } from '../../src/transport/errors.js';
import { FrameDecoder, encodeMessageFrame } from '../../src/transport/framing.js';
import { decodeClose, decodeHello } from '../../src/transport/handshake.js';
import { messageArb } from './arbitraries.js';

const RUNS = 2000;

/** Decodes and, on success, checks that the result re-encodes to the same bytes (the encoding is canonical). */
function decodeOrTransportError(buf: Uint8Array): void {
  let m;
  try {
    m = decodeMessage(buf);
  } catch (e) {
    if (!(e instanceof TransportError)) throw new Error(`decodeMessage threw ${String(e)} on [${[...buf].join(',')}]`);
    return;
  }
  expect(encodeMessage(m)).toEqual(buf);
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), value: fc.constant(0) }),
);

function mutate(buf: Uint8Array, ms: readonly { kind: 'flip' | 'insert' | 'delete'; at: number; value: number }[]): Uint8Array {
  const out = [...buf];
  for (const m of ms) {
    const at = out.length === 0 ? 0 : m.at % (out.length + (m.kind === 'insert' ? 1 : 0));
    if (m.kind === 'flip' && out.length > 0) out[at] = m.value;
    else if (m.kind === 'insert') out.splice(at, 0, m.value);
    else if (out.length > 0) out.splice(at, 1);
  }
  return new Uint8Array(out);
}

describe('decoding hostile bytes', () => {
  test('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), decodeOrTransportError), { numRuns: RUNS });
  });

  test('random bytes behind a valid message type and ids', () => {
    // Gets past the first checks far more often than fully random input.
    const prefix = fc.tuple(fc.integer({ min: 0, max: 13 }), fc.uint8Array({ maxLength: 120 }));
    fc.assert(
      fc.property(prefix, ([tag, rest]) => decodeOrTransportError(new Uint8Array([tag, 1, 0x61, 1, 0x62, ...rest]))),
      { numRuns: RUNS },
    );
  });

  test('every truncation of a valid encoding is refused', () => {
    fc.assert(
      fc.property(messageArb, fc.nat(), (m, cut) => {
        const wire = encodeMessage(m);
        const prefix = wire.subarray(0, cut % wire.length);
        expect(() => decodeMessage(prefix)).toThrow(TransportError);
      }),
      { numRuns: RUNS },
    );
  });

  test('mutated valid encodings (flipped, inserted, deleted bytes)', () => {
    fc.assert(
      fc.property(messageArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), (m, ms) => decodeOrTransportError(mutate(encodeMessage(m), ms))),
      { numRuns: RUNS },
    );
  });

  test('hello and close decoders', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (buf) => {
        for (const decode of [decodeHello, decodeClose]) {
          try {
            decode(buf);
          } catch (e) {
            if (!(e instanceof TransportError)) throw e;
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('a stream of mutated frames in random chunks', () => {
    fc.assert(
      fc.property(fc.array(messageArb, { maxLength: 5 }), fc.array(mutation, { maxLength: 3 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }), (msgs, ms, cuts) => {
        const stream = mutate(new Uint8Array(msgs.flatMap((m) => [...encodeMessageFrame(m)])), ms);
        const d = new FrameDecoder(1 << 20);
        try {
          let pos = 0;
          for (let i = 0; pos < stream.length; i++) {
            const n = cuts[i % cuts.length]!;
            d.push(stream.subarray(pos, pos + n));
            pos += n;
            for (let f = d.next(); f; f = d.next()) {
              try {
                decodeMessage(f.body);
              } catch (e) {
                if (!(e instanceof TransportError)) throw e;
              }
            }
          }
        } catch (e) {
          if (!(e instanceof TransportError)) throw e;
        }
      }),
      { numRuns: 500 },
    );
  });
});
