/**
 * The handshake and close frames (no I/O).
 *
 * Each side's first frame is a Hello: {magic, version, clusterId, from, to,
 * maxFrameBytes}. The dialer sends its Hello at once; the acceptor checks it
 * and answers with its own Hello, or with a Close frame that says why it
 * refuses. The dialer checks the answer the same way and only then sends
 * messages, so both ends know they talk to the replica they meant, of the
 * same cluster, speaking the same protocol — and the dialer learns the
 * largest frame the acceptor will take.
 */
import type { MemberId } from '../raft/index.js';
import { utf8Length } from '../common/bytes.js';
import { encodeWith, frameReader } from './bytes.js';
import { TransportError, TransportErrorCode } from './errors.js';
import { MAX_CLUSTER_ID_BYTES, MAX_CODE_BYTES, MAX_ID_BYTES, MAX_REASON_BYTES, MIN_MAX_FRAME_BYTES } from './limits.js';

/** "TRUA": a connection that does not start with it is not a Torua peer. */
export const MAGIC = 0x5452_5541;
/** Bumped on any incompatible change of the frame or message layout. */
export const PROTOCOL_VERSION = 1;

export interface Hello {
  readonly version: number;
  readonly clusterId: string;
  /** The sender's replica id. */
  readonly from: MemberId;
  /** The replica the sender believes it talks to. */
  readonly to: MemberId;
  /** Largest frame the sender accepts (frames it receives). */
  readonly maxFrameBytes: number;
}

export function encodeHello(h: Hello): Uint8Array {
  return encodeWith((s) => {
    s.u32(MAGIC);
    s.u16(h.version);
    s.str8(h.clusterId, MAX_CLUSTER_ID_BYTES, 'clusterId');
    s.str8(h.from, MAX_ID_BYTES, 'from');
    s.str8(h.to, MAX_ID_BYTES, 'to');
    s.u32(h.maxFrameBytes);
  });
}

/** Throws BAD_HANDSHAKE for anything but a well-formed Hello, UNSUPPORTED_VERSION for another version. */
export function decodeHello(body: Uint8Array): Hello {
  const r = frameReader(body);
  try {
    if (r.u32('magic') !== MAGIC) throw new TransportError(TransportErrorCode.BadHandshake, 'bad magic: not a Torua peer');
    const version = r.u16('version');
    // Checked before the rest: another version may lay out the rest differently.
    if (version !== PROTOCOL_VERSION) {
      throw new TransportError(TransportErrorCode.UnsupportedVersion, `protocol version ${version} is not supported (this build speaks ${PROTOCOL_VERSION})`);
    }
    const clusterId = r.str8(MAX_CLUSTER_ID_BYTES, 'clusterId');
    const from = r.str8(MAX_ID_BYTES, 'from');
    const to = r.str8(MAX_ID_BYTES, 'to');
    const maxFrameBytes = r.u32('maxFrameBytes');
    r.end('hello');
    return { version, clusterId, from, to, maxFrameBytes };
  } catch (e) {
    if (e instanceof TransportError && e.code === TransportErrorCode.BadFrame) {
      throw new TransportError(TransportErrorCode.BadHandshake, `malformed hello: ${e.message}`);
    }
    throw e;
  }
}

export interface HelloExpectation {
  readonly clusterId: string;
  /** Our own id: the Hello must be addressed to it. */
  readonly self: MemberId;
  /** Acceptor: the ids allowed to connect. */
  readonly peers?: { has(id: MemberId): boolean };
  /** Dialer: the id we dialled. */
  readonly from?: MemberId;
}

/** Why this Hello must be refused, or undefined if it is fine. */
export function checkHello(h: Hello, expect: HelloExpectation): TransportError | undefined {
  const refuse = (code: TransportErrorCode, msg: string) => new TransportError(code, msg);
  if (h.clusterId !== expect.clusterId) {
    return refuse(TransportErrorCode.ClusterMismatch, `peer ${JSON.stringify(h.from)} is in cluster ${JSON.stringify(h.clusterId)}, we are in ${JSON.stringify(expect.clusterId)}`);
  }
  if (expect.from !== undefined && h.from !== expect.from) {
    return refuse(TransportErrorCode.Misaddressed, `dialled ${JSON.stringify(expect.from)} but ${JSON.stringify(h.from)} answered`);
  }
  if (expect.peers !== undefined && (h.from === expect.self || !expect.peers.has(h.from))) {
    return refuse(TransportErrorCode.UnknownPeer, `sender id ${JSON.stringify(h.from)} is not one of our peers`);
  }
  if (h.to !== expect.self) {
    return refuse(TransportErrorCode.Misaddressed, `peer ${JSON.stringify(h.from)} meant to reach ${JSON.stringify(h.to)}, this is ${JSON.stringify(expect.self)}`);
  }
  if (h.maxFrameBytes < MIN_MAX_FRAME_BYTES) {
    return refuse(TransportErrorCode.BadHandshake, `peer ${JSON.stringify(h.from)} accepts frames of ${h.maxFrameBytes} bytes, below the minimum ${MIN_MAX_FRAME_BYTES}`);
  }
  return undefined;
}

export interface CloseReason {
  /** A TransportErrorCode, or whatever string a newer peer sent. */
  readonly code: string;
  readonly reason: string;
}

/** `s` cut to at most maxBytes of UTF-8, lone surrogates replaced. */
function clip(s: string, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (let ch of s) {
    let n = utf8Length(ch);
    if (n < 0) {
      ch = '\ufffd';
      n = 3;
    }
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

export function encodeClose(c: CloseReason): Uint8Array {
  return encodeWith((s) => {
    s.str8(clip(c.code, MAX_CODE_BYTES), MAX_CODE_BYTES, 'code');
    s.str16(clip(c.reason, MAX_REASON_BYTES), MAX_REASON_BYTES, 'reason');
  });
}

/** Throws BAD_FRAME if malformed. */
export function decodeClose(body: Uint8Array): CloseReason {
  const r = frameReader(body);
  const code = r.str8(MAX_CODE_BYTES, 'code');
  const reason = r.str16(MAX_REASON_BYTES, 'reason');
  r.end('close');
  return { code, reason };
}
