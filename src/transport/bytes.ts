/**
 * The peer transport's binary encoding (big-endian), and its reader: the
 * common ByteReader throwing BAD_FRAME. No I/O.
 *
 * Encoding runs a layout twice: once through a SizeSink, which validates
 * every value and adds up the size, then through a BufferSink that writes
 * into one exactly-sized allocation. One description of the layout serves
 * both passes, so size and bytes cannot drift apart.
 */
import { ByteReader, utf8Length } from '../common/bytes.js';
import { TransportError, TransportErrorCode } from './errors.js';
import { MAX_U32 } from './limits.js';

const TWO_POW_32 = 0x1_0000_0000;

const encoder = new TextEncoder();

export interface Sink {
  u8(n: number): void;
  u16(n: number): void;
  u32(n: number): void;
  /** A safe non-negative integer (terms, indexes, sequence numbers). */
  u64(n: number, what: string): void;
  bool(b: boolean, what: string): void;
  /** A string of at most maxBytes (≤ 255) UTF-8 bytes behind a u8 length. */
  str8(s: string, maxBytes: number, what: string): void;
  /** A string of at most maxBytes (≤ 65535) UTF-8 bytes behind a u16 length. */
  str16(s: string, maxBytes: number, what: string): void;
  /** Bytes behind a u32 length. */
  blob(b: Uint8Array, what: string): void;
}

const invalid = (msg: string): TransportError => new TransportError(TransportErrorCode.InvalidMessage, msg);

/** First pass: validates and measures. */
export class SizeSink implements Sink {
  size = 0;
  u8(): void {
    this.size += 1;
  }
  u16(): void {
    this.size += 2;
  }
  u32(): void {
    this.size += 4;
  }
  u64(n: number, what: string): void {
    if (!Number.isSafeInteger(n) || n < 0) throw invalid(`${what} must be a safe non-negative integer, got ${String(n)}`);
    this.size += 8;
  }
  bool(b: boolean, what: string): void {
    if (typeof b !== 'boolean') throw invalid(`${what} must be a boolean`);
    this.size += 1;
  }
  str8(s: string, maxBytes: number, what: string): void {
    this.size += 1 + this.strBytes(s, maxBytes, what);
  }
  str16(s: string, maxBytes: number, what: string): void {
    this.size += 2 + this.strBytes(s, maxBytes, what);
  }
  blob(b: Uint8Array, what: string): void {
    if (!(b instanceof Uint8Array)) throw invalid(`${what} must be a Uint8Array`);
    if (b.length > MAX_U32) throw invalid(`${what} is ${b.length} bytes, more than a u32 length can carry`);
    this.size += 4 + b.length;
  }
  private strBytes(s: string, maxBytes: number, what: string): number {
    if (typeof s !== 'string') throw invalid(`${what} must be a string`);
    const n = utf8Length(s);
    if (n < 0) throw invalid(`${what} is not well-formed UTF-16 (lone surrogate)`);
    if (n > maxBytes) throw invalid(`${what} is ${n} UTF-8 bytes, at most ${maxBytes} allowed`);
    return n;
  }
}

/**
 * Second pass: writes into a buffer of the measured size (values were
 * validated by SizeSink). Bytes are stored one by one rather than through a
 * DataView, and the buffer comes from Node's pool for small sizes: both
 * matter at ~10^5 messages/s, where a fresh ArrayBuffer per message would
 * dominate the cost.
 */
export class BufferSink implements Sink {
  readonly bytes: Uint8Array;
  pos: number;
  constructor(size: number, startAt = 0) {
    const pooled = Buffer.allocUnsafe(size);
    // A plain Uint8Array over the pooled memory: callers get the type the API promises, not a Buffer.
    this.bytes = new Uint8Array(pooled.buffer, pooled.byteOffset, size);
    for (let i = 0; i < startAt; i++) this.bytes[i] = 0;
    this.pos = startAt;
  }
  u8(n: number): void {
    this.bytes[this.pos++] = n;
  }
  u16(n: number): void {
    const b = this.bytes;
    b[this.pos] = n >>> 8;
    b[this.pos + 1] = n;
    this.pos += 2;
  }
  u32(n: number): void {
    writeU32(this.bytes, this.pos, n);
    this.pos += 4;
  }
  u64(n: number): void {
    writeU32(this.bytes, this.pos, Math.floor(n / TWO_POW_32));
    writeU32(this.bytes, this.pos + 4, n >>> 0);
    this.pos += 8;
  }
  bool(b: boolean): void {
    this.bytes[this.pos++] = b ? 1 : 0;
  }
  str8(s: string): void {
    const n = this.utf8At(s, this.pos + 1);
    this.bytes[this.pos] = n;
    this.pos += 1 + n;
  }
  str16(s: string): void {
    const n = this.utf8At(s, this.pos + 2);
    this.bytes[this.pos] = n >>> 8;
    this.bytes[this.pos + 1] = n;
    this.pos += 2 + n;
  }
  blob(b: Uint8Array): void {
    this.u32(b.length);
    this.bytes.set(b, this.pos);
    this.pos += b.length;
  }
  /** Writes s as UTF-8 at `at` and returns its length; ids are ASCII in practice, so that path avoids TextEncoder. */
  private utf8At(s: string, at: number): number {
    const b = this.bytes;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return i + encoder.encodeInto(s.slice(i), b.subarray(at + i)).written;
      b[at + i] = c;
    }
    return s.length;
  }
}

function writeU32(b: Uint8Array, at: number, n: number): void {
  b[at] = n >>> 24;
  b[at + 1] = n >>> 16;
  b[at + 2] = n >>> 8;
  b[at + 3] = n;
}

/** Runs `layout` twice (measure, then write) and returns the bytes, `headroom` zero bytes in front. */
export function encodeWith(layout: (s: Sink) => void, headroom = 0): Uint8Array {
  const size = new SizeSink();
  layout(size);
  const out = new BufferSink(headroom + size.size, headroom);
  layout(out);
  return out.bytes;
}

/** A reader for frames: anything malformed is BAD_FRAME. */
export function frameReader(buf: Uint8Array): ByteReader {
  return new ByteReader(buf, (msg) => new TransportError(TransportErrorCode.BadFrame, msg));
}
