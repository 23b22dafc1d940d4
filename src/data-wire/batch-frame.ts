/**
 * The data path's batch frame: several `/data/<key>` requests to one node in
 * one HTTP exchange (`POST /data-batch`), and their answers in one body.
 * Each request is exactly what it would be on its own (method, the path
 * with its `?epoch=N`, the value) and each answer exactly what that request
 * would have got (status and body), so a caller's handling of an answer does
 * not change. What it saves is the per-exchange cost, above all with TLS,
 * where every exchange is its own records to seal and open.
 *
 * Layout (big-endian):
 * - request:  u8 version · u16 count · count × (u8 method · str16 target · [u32 length · value] for PUT)
 * - answer:   u8 version · u16 count · count × (u16 status · u32 length · body)
 * where method 0 is GET, 1 PUT and 2 DELETE, and str16 is a u16 length and
 * that many bytes of UTF-8. Decoding checks every bound before it allocates.
 */
import { ByteReader, ByteWriter, DecodeError } from '../common/bytes.js';

export const DATA_BATCH_PATH = '/data-batch';
export const DATA_BATCH_CONTENT_TYPE = 'application/x-torua-data-batch';
export const DATA_BATCH_VERSION = 1;
/** Most requests in one batch. */
export const MAX_DATA_BATCH_REQUESTS = 256;
/** A target is `/data/` and a key of at most 1,024 bytes percent-encoded (3 bytes each at most), then `?epoch=N`. */
export const MAX_DATA_BATCH_TARGET_BYTES = 4_096;

export type DataBatchMethod = 'GET' | 'PUT' | 'DELETE';
const METHODS: readonly DataBatchMethod[] = ['GET', 'PUT', 'DELETE'];

export interface DataBatchRequest {
  readonly method: DataBatchMethod;
  /** Path and query, percent-encoded, as in a request line. */
  readonly target: string;
  /** The value of a PUT; absent for GET and DELETE. */
  readonly value?: Uint8Array;
}

export interface DataBatchAnswer {
  readonly status: number;
  readonly body: Uint8Array;
}

const fail = (message: string): Error => new DecodeError(message);
/** Method byte and an empty target's length. */
const MIN_REQUEST_BYTES = 1 + 2;
/** Status and an empty body's length. */
const MIN_ANSWER_BYTES = 2 + 4;
const HEADER_BYTES = 1 + 2;
const encoder = new TextEncoder();

export function encodeDataBatchRequests(requests: readonly DataBatchRequest[]): Uint8Array {
  if (requests.length === 0 || requests.length > MAX_DATA_BATCH_REQUESTS) throw new RangeError(`a data batch holds 1..${MAX_DATA_BATCH_REQUESTS} requests, not ${requests.length}`);
  const targets = requests.map((r) => encoder.encode(r.target));
  let size = HEADER_BYTES;
  requests.forEach((r, i) => (size += MIN_REQUEST_BYTES + targets[i]!.length + (r.method === 'PUT' ? 4 + (r.value?.length ?? 0) : 0)));
  const w = new ByteWriter(size).u8(DATA_BATCH_VERSION).u16(requests.length);
  requests.forEach((r, i) => {
    const target = targets[i]!;
    if (target.length > MAX_DATA_BATCH_TARGET_BYTES) throw new RangeError(`requests[${i}].target: ${target.length} bytes, at most ${MAX_DATA_BATCH_TARGET_BYTES}`);
    w.u8(METHODS.indexOf(r.method)).u16(target.length).raw(target);
    if (r.method === 'PUT') w.bytes(r.value ?? new Uint8Array(0));
  });
  return w.finish();
}

/** The requests a frame holds; a DecodeError naming the field for anything else. Values are views into one private copy of `bytes`. */
export function decodeDataBatchRequests(bytes: Uint8Array): DataBatchRequest[] {
  const r = new ByteReader(bytes, fail);
  readVersion(r);
  const count = r.count16(MAX_DATA_BATCH_REQUESTS, MIN_REQUEST_BYTES, 'count');
  if (count === 0) throw fail('count: expected at least one request');
  const requests: DataBatchRequest[] = [];
  for (let i = 0; i < count; i++) {
    const method = METHODS[r.enumU8(METHODS.length, `requests[${i}].method`)]!;
    const target = r.str16(MAX_DATA_BATCH_TARGET_BYTES, `requests[${i}].target`);
    requests.push(method === 'PUT' ? { method, target, value: r.bytes(`requests[${i}].value`) } : { method, target });
  }
  r.end('frame');
  return requests;
}

export function encodeDataBatchAnswers(answers: readonly DataBatchAnswer[]): Uint8Array {
  let size = HEADER_BYTES;
  for (const a of answers) size += MIN_ANSWER_BYTES + a.body.length;
  const w = new ByteWriter(size).u8(DATA_BATCH_VERSION).u16(answers.length);
  for (const a of answers) w.u16(a.status).bytes(a.body);
  return w.finish();
}

/** The answers of a frame that must hold `expected` of them; a DecodeError for anything else. */
export function decodeDataBatchAnswers(bytes: Uint8Array, expected: number): DataBatchAnswer[] {
  const r = new ByteReader(bytes, fail);
  readVersion(r);
  const count = r.count16(MAX_DATA_BATCH_REQUESTS, MIN_ANSWER_BYTES, 'count');
  if (count !== expected) throw fail(`count: ${count} answers to ${expected} requests`);
  const answers: DataBatchAnswer[] = [];
  for (let i = 0; i < count; i++) {
    const status = r.u16(`answers[${i}].status`);
    if (status < 100 || status > 599) throw fail(`answers[${i}].status: ${status} is not an HTTP status`);
    answers.push({ status, body: r.bytes(`answers[${i}].body`) });
  }
  r.end('frame');
  return answers;
}

function readVersion(r: ByteReader): void {
  const version = r.u8('version');
  if (version !== DATA_BATCH_VERSION) throw fail(`version: ${version}, this side reads ${DATA_BATCH_VERSION}`);
}
