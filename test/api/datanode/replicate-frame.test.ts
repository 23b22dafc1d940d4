import { describe, expect, it } from 'vitest';
import { createPeerLink } from '../../../src/cli/node-links.js';
import type { ReplicationBatch } from '../../../src/datanode/contract.js';
import { decodeReplicationFrame, encodeReplicationFrame, REPLICATION_FRAME_CONTENT_TYPE } from '../../../src/datanode/wire/replication-frame.js';
import { ClusterError, ClusterErrorCode, isClusterError } from '../../../src/errors/index.js';
import { ByteWriter } from '../../../src/common/bytes.js';
import { request, sampleBatch, startNodeServer } from './helpers.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const LIMITS = { maxOps: 100, maxShard: 65_535, maxValueBytes: 1024 };

/** The sample batch with an empty value as well (seq 13). */
const batch = (overrides: Partial<ReplicationBatch> = {}): ReplicationBatch => {
  const base = sampleBatch();
  return { ...base, ops: [...base.ops, { seq: 13, key: 'empty', value: '' }], ...overrides };
};

/** A frame written field by field, to make broken ones. */
function frame(fields: { version?: number; shard?: number; primary?: string; count?: number; ops?: (w: ByteWriter) => void }): Uint8Array {
  const w = new ByteWriter(64)
    .u8(fields.version ?? 1)
    .u32(fields.shard ?? 3)
    .u64(4)
    .string(fields.primary ?? 'n2')
    .u64(11)
    .u32(fields.count ?? 1);
  if (fields.ops === undefined) w.string('k').u8(1).bytes(Buffer.from('v'));
  else fields.ops(w);
  return w.finish();
}

function refusal(bytes: Uint8Array, limits = LIMITS): ClusterError {
  try {
    decodeReplicationFrame(bytes, limits);
  } catch (e) {
    expect(e).toBeInstanceOf(ClusterError);
    return e as ClusterError;
  }
  throw new Error('the frame was accepted');
}

describe('replication frame codec', () => {
  it('decodes what it encodes: seqs from firstSeq, deletes, empty and binary values', () => {
    const binary = Buffer.from([0, 255, 1, 254]).toString('base64');
    const b = batch({ ops: [...batch().ops, { seq: 14, key: 'bin', value: binary }] });
    expect(decodeReplicationFrame(encodeReplicationFrame(b), LIMITS)).toEqual(b);
  });

  it.each([
    ['a version it does not read', frame({ version: 2 }), /version 2/],
    ['a shard over the highest id', frame({ shard: 70_000 }), /shard 70000/],
    ['a primary that is not a node id', frame({ primary: 'no/slash' }), /primary: expected an id/],
    ['no ops', frame({ count: 0, ops: () => undefined }), /at least one op/],
    ['more ops than the limit', frame({ count: 101, ops: () => undefined }), /101 ops, over the limit of 100/],
    ['a count the bytes cannot hold', frame({ count: 50 }), /50 ops cannot fit/],
    ['a truncated value', frame({ ops: (w) => w.string('k').u8(1).u32(10).raw(Buffer.from('abc')) }), /truncated/],
    ['an unknown op kind', frame({ ops: (w) => w.string('k').u8(7) }), /ops\[0\]\.kind is 7/],
    ['an empty key', frame({ ops: (w) => w.string('').u8(0) }), /ops\[0\]\.key: .*empty key/],
    ['a key that is not UTF-8', frame({ ops: (w) => w.bytes(Uint8Array.of(0xff, 0xfe)).u8(0) }), /ops\[0\]\.key is not valid UTF-8/],
    ['a key over 1024 bytes', frame({ ops: (w) => w.string('k'.repeat(1025)).u8(0) }), /ops\[0\]\.key is 1025 bytes/],
    ['trailing bytes', Buffer.concat([frame({}), Buffer.from([0])]), /1 unexpected trailing bytes/],
    ['nothing at all', new Uint8Array(0), /truncated/],
  ])('refuses %s with INVALID_INPUT naming it', (_, bytes, message) => {
    const err = refusal(bytes);
    expect(isClusterError(err, ClusterErrorCode.InvalidInput)).toBe(true);
    expect(err.message).toMatch(/^replication frame: /);
    expect(err.message).toMatch(message);
  });

  it('refuses a value over the cluster limit with PAYLOAD_TOO_LARGE naming its seq', () => {
    const err = refusal(encodeReplicationFrame(batch({ firstSeq: 11, ops: [{ seq: 11, key: 'big', value: Buffer.alloc(1025).toString('base64') }] })));
    expect(isClusterError(err, ClusterErrorCode.PayloadTooLarge)).toBe(true);
    expect(err.payload).toMatchObject({ limitBytes: 1024, sizeBytes: 1025 });
    expect(err.message).toContain('seq 11');
  });
});

describe('POST /peer/replicate', () => {
  it('hands the decoded batch to the service and answers its ack, through the peer link', async () => {
    const { node, server } = await startNodeServer();
    expect(await createPeerLink().replicate(server.address, batch())).toEqual({ ackedSeq: 13 });
    expect(node.lastArgs('replicate')).toEqual([batch()]);
  });

  it('brings the engine’s refusal back as the same ClusterError, payload intact', async () => {
    const { node, server } = await startNodeServer();
    node.failWith('replicate', new ClusterError({ code: ClusterErrorCode.StaleEpoch, shard: 3, expectedEpoch: 4, currentEpoch: 6 }, 'shard 3 is at epoch 6'));
    const err = await createPeerLink()
      .replicate(server.address, batch())
      .then(() => undefined, (e: unknown) => e);
    expect(isClusterError(err, ClusterErrorCode.StaleEpoch)).toBe(true);
    expect((err as ClusterError).payload).toMatchObject({ shard: 3, currentEpoch: 6 });
    node.failWith('replicate', new ClusterError({ code: ClusterErrorCode.Conflict, reason: 'RESYNC' }, 'gap in shard 3'));
    const resync = await createPeerLink()
      .replicate(server.address, batch())
      .then(() => undefined, (e: unknown) => e);
    expect(isClusterError(resync, ClusterErrorCode.Conflict)).toBe(true);
    expect((resync as ClusterError).payload).toMatchObject({ reason: 'RESYNC' });
  });

  it('refuses a malformed frame with 400 before the service sees it', async () => {
    const { node, url } = await startNodeServer();
    const answer = await request(url, 'POST', '/peer/replicate', frame({ version: 9 }), { 'content-type': REPLICATION_FRAME_CONTENT_TYPE });
    expect(answer.status).toBe(400);
    expect(answer.json.error).toMatchObject({ code: 'INVALID_INPUT' });
    expect(answer.json.error.message).toContain('replication frame: version 9');
    expect(node.calls.filter((c) => c.method === 'replicate')).toHaveLength(0);
  });

  it('refuses an oversized body with 413 naming the limit, and a value over the cluster limit', async () => {
    const { node, url } = await startNodeServer({ maxTrpcBodyBytes: 4096, maxValueBytes: 100 });
    const headers = { 'content-type': REPLICATION_FRAME_CONTENT_TYPE };
    const huge = encodeReplicationFrame(batch({ ops: [{ seq: 11, key: 'a', value: Buffer.alloc(5000).toString('base64') }] }));
    const tooBig = await request(url, 'POST', '/peer/replicate', huge, headers);
    expect(tooBig.status).toBe(413);
    expect(tooBig.json.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', limitBytes: 4096 });
    const overValue = encodeReplicationFrame(batch({ ops: [{ seq: 11, key: 'a', value: Buffer.alloc(101).toString('base64') }] }));
    const refused = await request(url, 'POST', '/peer/replicate', overValue, headers);
    expect(refused.status).toBe(413);
    expect(refused.json.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', limitBytes: 100, sizeBytes: 101 });
    expect(node.calls.filter((c) => c.method === 'replicate')).toHaveLength(0);
  });

  it('refuses another method (405) and another content type (400)', async () => {
    const { url } = await startNodeServer();
    const get = await request(url, 'GET', '/peer/replicate');
    expect(get.status).toBe(405);
    expect(get.headers['allow']).toBe('POST');
    const json = await request(url, 'POST', '/peer/replicate', JSON.stringify(batch()), { 'content-type': 'application/json' });
    expect(json.status).toBe(400);
    expect(json.json.error.message).toContain(`content-type: expected ${REPLICATION_FRAME_CONTENT_TYPE}`);
  });
});
