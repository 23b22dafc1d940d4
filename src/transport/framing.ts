/**
 * Length-prefixed frames on a byte stream (no I/O):
 *
 *   u32 length · u8 kind · body        (length counts kind + body)
 *
 * The decoder refuses a frame longer than its current limit as soon as its
 * length prefix arrives, without waiting for the body, so a peer cannot
 * make us buffer more than one allowed frame.
 */
import type { Message } from '../raft/index.js';
import { readU32 } from '../common/bytes.js';
import { encodeMessage } from './codec.js';
import { TransportError, TransportErrorCode } from './errors.js';

export enum FrameKind {
  /** Handshake: first frame each way on a connection. */
  Hello = 1,
  /** "I am closing this connection, and why": code and reason. */
  Close = 2,
  /** One Raft message (codec.ts). */
  Message = 3,
  /** Proof of life on an otherwise idle connection; empty body. */
  KeepAlive = 4,
}

const KIND_MAX = FrameKind.KeepAlive;

export const LENGTH_BYTES = 4;
export const FRAME_HEADER_BYTES = LENGTH_BYTES + 1;

export interface Frame {
  readonly kind: FrameKind;
  /** A view into the decoder's buffer: consume it before the next push(). */
  readonly body: Uint8Array;
}

function writeHeader(bytes: Uint8Array, kind: FrameKind): Uint8Array {
  const n = bytes.length - LENGTH_BYTES;
  bytes[0] = n >>> 24;
  bytes[1] = n >>> 16;
  bytes[2] = n >>> 8;
  bytes[3] = n;
  bytes[LENGTH_BYTES] = kind;
  return bytes;
}

export function encodeFrame(kind: FrameKind, body: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  bytes.set(body, FRAME_HEADER_BYTES);
  return writeHeader(bytes, kind);
}

/** A Message frame, encoded in one allocation (the codec leaves room for the header). */
export function encodeMessageFrame(m: Message): Uint8Array {
  return writeHeader(encodeMessage(m, FRAME_HEADER_BYTES), FrameKind.Message);
}

export const KEEPALIVE_FRAME: Uint8Array = encodeFrame(FrameKind.KeepAlive, new Uint8Array(0));

/** Size that the receiver compares with its maxFrameBytes. */
export function frameLength(frame: Uint8Array): number {
  return frame.length - LENGTH_BYTES;
}

/** Incremental frame parser: push() socket chunks, then take frames with next() until undefined. */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  /** Bytes consumed from chunks[0]. */
  private head = 0;
  private buffered = 0;

  /** Largest accepted frame length; lowered during the handshake, see setLimit. */
  constructor(private limitBytes: number) {}

  /** The limit applies from the next frame on (also to frames already buffered). */
  setLimit(limitBytes: number): void {
    this.limitBytes = limitBytes;
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    // Socket chunks are Buffers; a plain view makes every later subarray() a cheap Uint8Array, not a Buffer.
    this.chunks.push(chunk.constructor === Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    this.buffered += chunk.length;
  }

  /** The next complete frame, or undefined if more bytes are needed. Throws FRAME_TOO_LARGE or BAD_FRAME. */
  next(): Frame | undefined {
    if (this.buffered < LENGTH_BYTES) return undefined;
    const first = this.chunks[0]!;
    const inFirst = first.length - this.head;
    const length = readU32(inFirst >= LENGTH_BYTES ? first : this.copyOut(LENGTH_BYTES, false), inFirst >= LENGTH_BYTES ? this.head : 0);
    if (length === 0) throw new TransportError(TransportErrorCode.BadFrame, 'frame of length 0 (no kind byte)');
    if (length > this.limitBytes) {
      throw new TransportError(TransportErrorCode.FrameTooLarge, `frame of ${length} bytes exceeds the limit of ${this.limitBytes}`);
    }
    const total = LENGTH_BYTES + length;
    if (this.buffered < total) return undefined;
    let frame: Uint8Array;
    let at: number;
    if (inFirst >= total) {
      // Zero-copy: the whole frame lies in the first chunk (the common case for small frames).
      frame = first;
      at = this.head;
      this.head += total;
      this.buffered -= total;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
    } else {
      frame = this.copyOut(total, true);
      at = 0;
    }
    const kind = frame[at + LENGTH_BYTES]!;
    if (kind < FrameKind.Hello || kind > KIND_MAX) throw new TransportError(TransportErrorCode.BadFrame, `unknown frame kind ${kind}`);
    return { kind: kind as FrameKind, body: frame.subarray(at + FRAME_HEADER_BYTES, at + total) };
  }

  private copyOut(n: number, consume: boolean): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    let i = 0;
    let head = this.head;
    while (filled < n) {
      const c = this.chunks[i]!;
      const part = Math.min(c.length - head, n - filled);
      out.set(c.subarray(head, head + part), filled);
      filled += part;
      head += part;
      if (head === c.length) {
        i++;
        head = 0;
      }
    }
    if (consume) {
      this.chunks.splice(0, i);
      this.head = head;
      this.buffered -= n;
    }
    return out;
  }
}
