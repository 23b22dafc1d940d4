/**
 * The one big-endian binary reader and writer, for stored records and wire
 * formats alike. No I/O.
 *
 * Every read checks the bytes that remain: a shortfall or leftover throws the
 * error the owner of the format chose (a DecodeError by default), never a
 * RangeError, because a truncated record or frame is bad input to report, not
 * a crash. Each read takes `what`, the field it reads, for the message.
 */

const TWO_POW_32 = 0x1_0000_0000;
/** JS numbers are exact up to 2^53 - 1: the high word of a u64 may use 21 bits. */
const MAX_U64_HIGH_WORD = 0x1f_ffff;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A stored value does not decode; the caller knows which record it was and says so. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

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

export function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/**
 * A growable writer for records built one field after another. (The peer
 * transport's hot path measures first and writes once: transport/bytes.ts.)
 */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private len = 0;

  /** `sizeBytes`: the expected final size, so that a writer sized right allocates once. */
  constructor(sizeBytes = 64) {
    this.buf = new Uint8Array(sizeBytes);
    this.view = new DataView(this.buf.buffer);
  }

  u8(v: number): this {
    this.reserve(1);
    this.view.setUint8(this.len, v);
    this.len += 1;
    return this;
  }

  u16(v: number): this {
    this.reserve(2);
    this.view.setUint16(this.len, v);
    this.len += 2;
    return this;
  }

  u32(v: number): this {
    this.reserve(4);
    this.view.setUint32(this.len, v);
    this.len += 4;
    return this;
  }

  /** A non-negative safe integer (Raft indexes and terms) as 8 bytes, so keys sort numerically. */
  u64(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`not a non-negative safe integer: ${v}`);
    this.reserve(8);
    this.view.setUint32(this.len, Math.floor(v / TWO_POW_32));
    this.view.setUint32(this.len + 4, v >>> 0);
    this.len += 8;
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /** Bytes behind a u32 length. */
  bytes(bytes: Uint8Array): this {
    return this.u32(bytes.length).raw(bytes);
  }

  /** UTF-8 behind a u32 length. */
  string(s: string): this {
    return this.bytes(encoder.encode(s));
  }

  finish(): Uint8Array {
    return this.len === this.buf.length ? this.buf : this.buf.slice(0, this.len);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

/**
 * A plain-Uint8Array copy (its subarrays are Uint8Arrays too, not Buffers),
 * taken from Node's pool when small: allocating a fresh ArrayBuffer costs
 * about a microsecond, more than decoding a message.
 */
function copyOf(src: Uint8Array): Uint8Array {
  const pooled = Buffer.allocUnsafe(src.length);
  pooled.set(src);
  return new Uint8Array(pooled.buffer, pooled.byteOffset, pooled.length);
}

/** Reads a buffer front to back; every read checks the bytes that remain. */
export class ByteReader {
  private readonly buf: Uint8Array;
  private readonly fail: (message: string) => Error;
  private pos = 0;
  /** A private copy of the input, made on the first length-prefixed read (see bytes()). */
  private owned: Uint8Array | undefined;

  /** `fail`: the error a malformed input throws (a stored record's DecodeError unless the format says otherwise). */
  constructor(buf: Uint8Array, fail: (message: string) => Error = (message) => new DecodeError(message)) {
    this.buf = buf;
    this.fail = fail;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  u8(what = 'value'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what = 'value'): number {
    this.need(2, what);
    const b = this.buf;
    const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u32(what = 'value'): number {
    this.need(4, what);
    const v = readU32(this.buf, this.pos);
    this.pos += 4;
    return v;
  }

  u64(what = 'value'): number {
    this.need(8, what);
    const hi = readU32(this.buf, this.pos);
    if (hi > MAX_U64_HIGH_WORD) throw this.fail(`${what}: integer at offset ${this.pos} exceeds 2^53 - 1 (not a safe integer)`);
    const lo = readU32(this.buf, this.pos + 4);
    this.pos += 8;
    return hi * TWO_POW_32 + lo;
  }

  bool(what = 'value'): boolean {
    const v = this.u8(what);
    if (v > 1) throw this.fail(`${what}: boolean byte is ${v}`);
    return v === 1;
  }

  /** An enum value in [0, count). */
  enumU8(count: number, what = 'value'): number {
    const v = this.u8(what);
    if (v >= count) throw this.fail(`${what}: ${v} is not one of 0..${count - 1}`);
    return v;
  }

  /** `n` bytes, copied, so callers never hold the input buffer (LevelDB's, or a socket's). */
  raw(n: number, what = 'value'): Uint8Array {
    this.need(n, what);
    const out = new Uint8Array(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /**
   * Bytes behind a u32 length, as a view into a private copy of the input:
   * decoded data never aliases the caller's buffer (which a socket reuses),
   * and a message with many entries costs one copy, not one allocation per
   * entry.
   */
  bytes(what = 'value'): Uint8Array {
    const len = this.u32(what);
    this.need(len, what);
    this.owned ??= copyOf(this.buf);
    const b = this.owned.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }

  /** UTF-8 of at most maxBytes (≤ 255) behind a u8 length. */
  str8(maxBytes: number, what = 'value'): string {
    return this.str(this.u8(what), maxBytes, what);
  }

  /** UTF-8 of at most maxBytes (≤ 65535) behind a u16 length. */
  str16(maxBytes: number, what = 'value'): string {
    return this.str(this.u16(what), maxBytes, what);
  }

  /** UTF-8 behind a u32 length (stored records, whose lengths the writer set). */
  string(what = 'value'): string {
    return this.str(this.u32(what), Number.MAX_SAFE_INTEGER, what);
  }

  /**
   * A u32 item count, checked against `max` and against the bytes left (each
   * item takes at least minItemBytes), so no count can make us allocate or
   * loop beyond what the input actually holds.
   */
  count(max: number, minItemBytes: number, what = 'value'): number {
    return this.checkCount(this.u32(what), max, minItemBytes, what);
  }

  /** Same as count() with a u16 count. */
  count16(max: number, minItemBytes: number, what = 'value'): number {
    return this.checkCount(this.u16(what), max, minItemBytes, what);
  }

  /** The whole input must be consumed: trailing bytes mean it is not what was written. */
  end(what = 'value'): void {
    if (this.remaining !== 0) throw this.fail(`${what}: ${this.remaining} unexpected trailing bytes`);
  }

  private need(n: number, what: string): void {
    if (n > this.remaining) throw this.fail(`${what}: truncated, needs ${n} bytes at offset ${this.pos}, ${this.remaining} left`);
  }

  private str(len: number, maxBytes: number, what: string): string {
    if (len > maxBytes) throw this.fail(`${what}: ${len} bytes, at most ${maxBytes} allowed`);
    this.need(len, what);
    const b = this.buf;
    const start = this.pos;
    // ASCII (every id in practice) without TextDecoder, whose per-call cost dwarfs a few bytes.
    let s = '';
    let i = start;
    for (; i < start + len && b[i]! < 0x80; i++) s += String.fromCharCode(b[i]!);
    if (i < start + len) {
      try {
        s = decoder.decode(b.subarray(start, start + len));
      } catch {
        throw this.fail(`${what}: not valid UTF-8`);
      }
    }
    this.pos += len;
    return s;
  }

  private checkCount(n: number, max: number, minItemBytes: number, what: string): number {
    if (n > max) throw this.fail(`${what}: ${n} items, at most ${max} allowed`);
    if (n * minItemBytes > this.remaining) throw this.fail(`${what}: ${n} items cannot fit in ${this.remaining} bytes`);
    return n;
  }
}
