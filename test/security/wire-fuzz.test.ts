// Hostile bytes at the binary entrances: the peer handshake, the Raft message
// codec and the replication frame. Seeded, so a failure reproduces; each
// property runs FUZZ_RUNS cases. A decoder either returns a value that its
// own encoder gives back (and, for the replication frame, that the tRPC
// schema of the same batch accepts), or refuses with its own error class:
// never another exception.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { replicationBatchSchema } from '../../src/api/datanode/inputs.js';
import type { ReplicationBatch } from '../../src/datanode/contract.js';
import { decodeReplicationFrame, encodeReplicationFrame } from '../../src/datanode/wire/replication-frame.js';
import { ClusterError, ClusterErrorCode } from '../../src/errors/index.js';
import { decodeMessage, encodeMessage } from '../../src/transport/codec.js';
import { TransportError } from '../../src/transport/errors.js';
import { checkHello, decodeHello, encodeHello, MAGIC, PROTOCOL_VERSION, type Hello } from '../../src/transport/handshake.js';
import { messageArb } from '../transport/arbitraries.js';
import { FUZZ_RUNS, FUZZ_SEED, FUZZ_TIMEOUT_MS, mutate, mutationsArb } from './fuzz-support.js';

const params = { numRuns: FUZZ_RUNS, seed: FUZZ_SEED };

function transportRefusal(decode: () => unknown): unknown {
  try {
    return decode();
  } catch (e) {
    if (!(e instanceof TransportError)) throw new Error(`threw ${String(e)} instead of a TransportError`);
    return undefined;
  }
}

const helloArb: fc.Arbitrary<Hello> = fc.record({
  version: fc.constantFrom(PROTOCOL_VERSION, 0, 2, 65_535),
  clusterId: fc.constantFrom('torua-test', 'other', ''),
  from: fc.constantFrom('c1', 'c2', 'c3', 'c9', ''),
  to: fc.constantFrom('c1', 'c2', 'c3', ''),
  maxFrameBytes: fc.constantFrom(0, 1, 1 << 20, 2 ** 32 - 1),
});

describe('peer handshake', () => {
  test('mutated hellos decode to a hello or a TransportError; a decoded one is checked without throwing', () => {
    const expectation = { clusterId: 'torua-test', self: 'c1', peers: new Set(['c2', 'c3']) };
    fc.assert(
      fc.property(helloArb, mutationsArb, (hello, ms) => {
        const bytes = ms.length === 0 ? encodeHello(hello) : mutate(encodeHello(hello), ms);
        const decoded = transportRefusal(() => decodeHello(bytes)) as Hello | undefined;
        if (decoded === undefined) return;
        const refusal = checkHello(decoded, expectation);
        // Only the exact identity of a known peer of this cluster, addressed to us, is let in.
        const accepted = decoded.clusterId === 'torua-test' && decoded.to === 'c1' && (decoded.from === 'c2' || decoded.from === 'c3');
        if (!accepted) expect(refusal).toBeInstanceOf(TransportError);
      }),
      params,
    );
  }, FUZZ_TIMEOUT_MS);

  test('random bytes behind the magic', () => {
    const magic = [MAGIC >>> 24, (MAGIC >>> 16) & 255, (MAGIC >>> 8) & 255, MAGIC & 255];
    fc.assert(fc.property(fc.uint8Array({ maxLength: 160 }), (rest) => void transportRefusal(() => decodeHello(new Uint8Array([...magic, ...rest])))), params);
  }, FUZZ_TIMEOUT_MS);
});

describe('Raft message codec', () => {
  test('mutated valid messages decode to themselves re-encoded, or a TransportError', () => {
    fc.assert(
      fc.property(messageArb, mutationsArb, (m, ms) => {
        const bytes = mutate(encodeMessage(m), ms);
        const decoded = transportRefusal(() => decodeMessage(bytes)) as ReturnType<typeof decodeMessage> | undefined;
        if (decoded !== undefined) expect(encodeMessage(decoded)).toEqual(bytes);
      }),
      params,
    );
  }, FUZZ_TIMEOUT_MS);
});

const LIMITS = { maxOps: 64, maxShard: 1_023, maxValueBytes: 256 };
const keyArb = fc.oneof(fc.constantFrom('k', 'user@example.com', '数字', '..', '.', '%2E', 'a/b'), fc.string({ maxLength: 12 }));
const batchArb: fc.Arbitrary<ReplicationBatch> = fc
  .record({
    shard: fc.nat(1_100),
    epoch: fc.nat(50),
    primary: fc.constantFrom('n1', 'n2', 'x'.repeat(64), ''),
    firstSeq: fc.nat(1_000),
    ops: fc.array(fc.record({ key: keyArb, value: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null }) }), { maxLength: 6 }),
  })
  .map((b) => ({
    ...b,
    ops: b.ops.map((op, i) => ({ seq: b.firstSeq + i, key: op.key, value: op.value === null ? null : Buffer.from(op.value).toString('base64') })),
  }));

describe('replication frame', () => {
  test('mutated frames decode to a batch the tRPC schema accepts too, or are refused with 400/413, never anything else', () => {
    fc.assert(
      fc.property(batchArb, mutationsArb, (batch, ms) => {
        let bytes: Uint8Array;
        try {
          bytes = mutate(encodeReplicationFrame(batch), ms);
        } catch {
          return; // A batch the encoder cannot write (an over-long primary) is not a frame anyone sends.
        }
        let decoded: ReplicationBatch;
        try {
          decoded = decodeReplicationFrame(bytes, LIMITS);
        } catch (e) {
          expect(e).toBeInstanceOf(ClusterError);
          expect([ClusterErrorCode.InvalidInput, ClusterErrorCode.PayloadTooLarge]).toContain((e as ClusterError).code);
          return;
        }
        const checked = replicationBatchSchema.safeParse(decoded);
        expect(checked.success ? [] : checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([]);
        expect(decoded.shard).toBeLessThanOrEqual(LIMITS.maxShard);
        expect(decoded.ops.length).toBeLessThanOrEqual(LIMITS.maxOps);
      }),
      params,
    );
  }, FUZZ_TIMEOUT_MS);
});
