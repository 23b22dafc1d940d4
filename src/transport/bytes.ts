/**
 * Bounds-checked binary primitives for the wire formats (big-endian). No I/O.
 *
 * Encoding runs a layout twice: once through a SizeSink, which validates
 * every value and adds up the size, then through a BufferSink that writes
 * into one exactly-sized allocation. One description of the layout serves
 * both passes, so size and bytes cannot drift apart.
 */
import { TransportError, TransportErrorCode } from './errors.js';
import { MAX_U32 } from './limits.js';

/** JS numbers are exact up to 2^53 - 1: the high word of a u64 may use 21 bits. */
const MAX_U64_HIGH_WORD = 0x1f_ffff;
const TWO_POW_32 = 0x1_0000_0000;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * UTF-8 length of `s`, or -1 if it holds a lone surrogate (TextEncoder would
 * replace it with U+FFFD, so it could not round-trip).
 */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return -1;
      n += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return -1;
    else n += 3;
  }
  return n;
}

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

/**
 * A plain-Uint8Array copy (its subarrays are Uint8Arrays too, not Buffers),
 * taken from Node's pool when small: allocating a fresh ArrayBuffer costs
 * about a microsecond, more than decoding the message.
 */
function copyOf(src: Uint8Array): Uint8Array {
  const pooled = Buffer.allocUnsafe(src.length);
  pooled.set(src);
  return new Uint8Array(pooled.buffer, pooled.byteOffset, pooled.length);
}

export function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Runs `layout` twice (measure, then write) and returns the bytes, `headroom` zero bytes in front. */
export function encodeWith(layout: (s: Sink) => void, headroom = 0): Uint8Array {
  const size = new SizeSink();
  layout(size);
  const out = new BufferSink(headroom + size.size, headroom);
  layout(out);
  return out.bytes;
}

const bad = (msg: string): TransportError => new TransportError(TransportErrorCode.BadFrame, msg);

/** Reads a buffer front to back; every read checks the bytes that remain and throws BAD_FRAME. */
export class ByteReader {
  private readonly bytes: Uint8Array;
  private pos = 0;
  /** A private copy of the input, made on the first blob read (see blob()). */
  private owned: Uint8Array | undefined;
  constructor(buf: Uint8Array) {
    this.bytes = buf;
  }
  get remaining(): number {
    return this.bytes.length - this.pos;
  }
  private need(n: number, what: string): void {
    if (n > this.remaining) throw bad(`${what}: needs ${n} bytes at offset ${this.pos}, ${this.remaining} left`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos++]!;
  }
  u16(what: string): number {
    this.need(2, what);
    const b = this.bytes;
    const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = readU32(this.bytes, this.pos);
    this.pos += 4;
    return v;
  }
  u64(what: string): number {
    this.need(8, what);
    const hi = readU32(this.bytes, this.pos);
    if (hi > MAX_U64_HIGH_WORD) throw bad(`${what}: exceeds 2^53 - 1 (not a safe integer)`);
    const lo = readU32(this.bytes, this.pos + 4);
    this.pos += 8;
    return hi * TWO_POW_32 + lo;
  }
  bool(what: string): boolean {
    const v = this.u8(what);
    if (v > 1) throw bad(`${what}: boolean byte is ${v}`);
    return v === 1;
  }
  /** An enum value in [0, count). */
  enumU8(count: number, what: string): number {
    const v = this.u8(what);
    if (v >= count) throw bad(`${what}: ${v} is not one of 0..${count - 1}`);
    return v;
  }
  str8(maxBytes: number, what: string): string {
    return this.str(this.u8(what), maxBytes, what);
  }
  str16(maxBytes: number, what: string): string {
    return this.str(this.u16(what), maxBytes, what);
  }
  private str(len: number, maxBytes: number, what: string): string {
    if (len > maxBytes) throw bad(`${what}: ${len} bytes, at most ${maxBytes} allowed`);
    this.need(len, what);
    const b = this.bytes;
    const start = this.pos;
    // ASCII (every id in practice) without TextDecoder, whose per-call cost dwarfs a few bytes.
    let s = '';
    let i = start;
    for (; i < start + len && b[i]! < 0x80; i++) s += String.fromCharCode(b[i]!);
    if (i < start + len) {
      try {
        s = decoder.decode(b.subarray(start, start + len));
      } catch {
        throw bad(`${what}: not valid UTF-8`);
      }
    }
    this.pos += len;
    return s;
  }
  /**
   * Bytes behind a u32 length, as a view into a private copy of the input:
   * decoded data never aliases the socket's read buffer (which the caller
   * reuses), and a message with many entries costs one copy, not one
   * allocation per entry.
   */
  blob(what: string): Uint8Array {
    const len = this.u32(what);
    this.need(len, what);
    this.owned ??= copyOf(this.bytes);
    const b = this.owned.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }
  /**
   * A u32 item count, checked against `max` and against the bytes left (each
   * item takes at least minItemBytes), so no count can make us allocate or
   * loop beyond what the frame actually holds.
   */
  count(max: number, minItemBytes: number, what: string): number {
    return this.checkCount(this.u32(what), max, minItemBytes, what);
  }
  /** Same as count() with a u16 count. */
  count16(max: number, minItemBytes: number, what: string): number {
    return this.checkCount(this.u16(what), max, minItemBytes, what);
  }
  private checkCount(n: number, max: number, minItemBytes: number, what: string): number {
    if (n > max) throw bad(`${what}: ${n} items, at most ${max} allowed`);
    if (n * minItemBytes > this.remaining) throw bad(`${what}: ${n} items cannot fit in ${this.remaining} bytes`);
    return n;
  }
  /** The whole buffer must be consumed: trailing bytes mean a framing or version bug. */
  end(what: string): void {
    if (this.remaining !== 0) throw bad(`${what}: ${this.remaining} trailing bytes`);
  }
}
