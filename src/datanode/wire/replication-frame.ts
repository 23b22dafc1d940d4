/**
 * The lean wire of the hot path between data nodes: one `ReplicationBatch`
 * as a length-prefixed binary frame (values as raw bytes), posted to a
 * peer's `POST /peer/replicate`. It carries exactly what the tRPC
 * `replicate` procedure carries (which stays, for compatibility), without
 * JSON, base64 in transit, or tRPC's envelope: those cost more CPU than the
 * replica's synced write. Seqs are not sent: ops are contiguous from
 * `firstSeq`, which is the contract's rule anyway.
 *
 * Layout (big-endian): u8 version · u32 shard · u64 epoch · str primary ·
 * u64 firstSeq · u32 count · count × (str key · u8 kind · [bytes value]),
 * where str and bytes are a u32 length and that many bytes, kind 0 is a
 * delete and 1 a put. Decoding checks every bound before it allocates.
 */
import { keyProblem, MAX_KEY_BYTES } from '../../common/data-key.js';
import { idSchema } from '../../config/index.js';
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';
import { ByteReader, ByteWriter, DecodeError } from '../../common/bytes.js';
import type { ReplicatedOp, ReplicationBatch } from '../contract.js';
import { invalidInput } from '../errors.js';

export const REPLICATION_FRAME_VERSION = 1;
export const REPLICATION_FRAME_CONTENT_TYPE = 'application/x-torua-replication';

const KIND_DELETE = 0;
const KIND_PUT = 1;
/** Node ids are short (src/config idSchema); a longer one is not a frame of ours. */
const MAX_PRIMARY_BYTES = 256;
/** version, shard, epoch, primary length, firstSeq, count. */
const HEADER_BYTES = 1 + 4 + 8 + 4 + 8 + 4;
/** The smallest op: an empty-length key prefix and its kind (a real key has at least one byte more). */
const MIN_OP_BYTES = 4 + 1;

export interface ReplicationFrameLimits {
  /** Most ops in one frame. */
  readonly maxOps: number;
  /** Highest shard id. */
  readonly maxShard: number;
  /** The cluster's value limit now: a larger value was never accepted by a primary. */
  readonly maxValueBytes: number;
}

export function encodeReplicationFrame(batch: ReplicationBatch): Uint8Array {
  const values = batch.ops.map((op) => (op.value === null ? null : Buffer.from(op.value, 'base64')));
  let size = HEADER_BYTES + batch.primary.length * 3;
  batch.ops.forEach((op, i) => (size += MIN_OP_BYTES + op.key.length * 3 + 4 + (values[i]?.length ?? 0)));
  const w = new ByteWriter(size).u8(REPLICATION_FRAME_VERSION).u32(batch.shard).u64(batch.epoch).string(batch.primary).u64(batch.firstSeq).u32(batch.ops.length);
  batch.ops.forEach((op, i) => {
    w.string(op.key);
    const value = values[i];
    if (value === null || value === undefined) w.u8(KIND_DELETE);
    else w.u8(KIND_PUT).bytes(value);
  });
  return w.finish();
}

function frameError(why: string): ClusterError {
  return invalidInput([`replication frame: ${why}`]);
}

/** A length-prefixed field (the reader refuses one longer than what is left before copying it). */
function boundedBytes(r: ByteReader, field: string, max: number): Uint8Array {
  const bytes = r.bytes();
  if (bytes.length > max) throw frameError(`${field} is ${bytes.length} bytes, over the limit of ${max}`);
  return bytes;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(bytes: Uint8Array, field: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw frameError(`${field} is not valid UTF-8`);
  }
}

function decodeOp(r: ByteReader, seq: number, index: number, shard: number, limits: ReplicationFrameLimits): ReplicatedOp {
  const key = text(boundedBytes(r, `ops[${index}].key`, MAX_KEY_BYTES), `ops[${index}].key`);
  const problem = keyProblem(key);
  if (problem !== undefined) throw frameError(`ops[${index}].${problem}`);
  const kind = r.u8();
  if (kind === KIND_DELETE) return { seq, key, value: null };
  if (kind !== KIND_PUT) throw frameError(`ops[${index}].kind is ${kind}, expected ${KIND_DELETE} (delete) or ${KIND_PUT} (put)`);
  const value = r.bytes();
  if (value.length > limits.maxValueBytes) {
    throw new ClusterError(
      { code: ClusterErrorCode.PayloadTooLarge, limitBytes: limits.maxValueBytes, sizeBytes: value.length },
      `replication frame: the value of seq ${seq} (ops[${index}]) in shard ${shard} is ${value.length} bytes, over the limit of ${limits.maxValueBytes}`,
    );
  }
  return { seq, key, value: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
}

/** The batch a frame holds; INVALID_INPUT (or PAYLOAD_TOO_LARGE for a value) naming the field for anything else. */
export function decodeReplicationFrame(bytes: Uint8Array, limits: ReplicationFrameLimits): ReplicationBatch {
  const r = new ByteReader(bytes);
  try {
    const version = r.u8();
    if (version !== REPLICATION_FRAME_VERSION) throw frameError(`version ${version}, this node reads ${REPLICATION_FRAME_VERSION}`);
    const shard = r.u32();
    if (shard > limits.maxShard) throw frameError(`shard ${shard} is over the highest shard id ${limits.maxShard}`);
    const epoch = r.u64();
    const primaryBytes = boundedBytes(r, 'primary', MAX_PRIMARY_BYTES);
    const primary = text(primaryBytes, 'primary');
    const id = idSchema.safeParse(primary);
    if (!id.success) throw frameError(`primary: ${id.error.issues[0]?.message ?? 'not a node id'}`);
    const firstSeq = r.u64();
    const count = r.u32();
    if (count === 0) throw frameError('expected at least one op');
    if (count > limits.maxOps) throw frameError(`${count} ops, over the limit of ${limits.maxOps}`);
    // Every op takes at least MIN_OP_BYTES: a count the frame cannot hold is refused before any op is read.
    const left = bytes.length - HEADER_BYTES - primaryBytes.length;
    if (count * MIN_OP_BYTES > left) throw frameError(`${count} ops cannot fit in the ${left} bytes left`);
    if (!Number.isSafeInteger(firstSeq + count - 1)) throw frameError(`seq ${firstSeq} + ${count} ops is beyond 2^53`);
    const ops: ReplicatedOp[] = [];
    for (let i = 0; i < count; i++) ops.push(decodeOp(r, firstSeq + i, i, shard, limits));
    r.end();
    return { shard, epoch, primary, firstSeq, ops };
  } catch (e) {
    if (e instanceof DecodeError) throw frameError(e.message);
    throw e;
  }
}
