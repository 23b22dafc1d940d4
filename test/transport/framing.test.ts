import { describe, expect, test } from 'vitest';
import { TransportError, TransportErrorCode } from '../../src/transport/errors.js';
import { FrameDecoder, FrameKind, KEEPALIVE_FRAME, encodeFrame, encodeMessageFrame, type Frame } from '../../src/transport/framing.js';
import { MAGIC, PROTOCOL_VERSION, checkHello, decodeClose, decodeHello, encodeClose, encodeHello, type Hello } from '../../src/transport/handshake.js';
import { MAX_HANDSHAKE_FRAME_BYTES, MAX_REASON_BYTES } from '../../src/transport/limits.js';
import { SendQueue } from '../../src/transport/send-queue.js';

function codeOf(fn: () => unknown): TransportErrorCode | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof TransportError) return e.code;
    throw e;
  }
  return undefined;
}

function drain(d: FrameDecoder): { kind: FrameKind; body: number[] }[] {
  const out = [];
  for (let f: Frame | undefined = d.next(); f; f = d.next()) out.push({ kind: f.kind, body: [...f.body] });
  return out;
}

describe('FrameDecoder', () => {
  const a = encodeFrame(FrameKind.Message, new Uint8Array([1, 2, 3]));
  const b = encodeFrame(FrameKind.Message, new Uint8Array(300).fill(7));
  const stream = new Uint8Array([...a, ...KEEPALIVE_FRAME, ...b]);
  const expected = [
    { kind: FrameKind.Message, body: [1, 2, 3] },
    { kind: FrameKind.KeepAlive, body: [] },
    { kind: FrameKind.Message, body: new Array(300).fill(7) },
  ];

  test('frames in one chunk', () => {
    const d = new FrameDecoder(1024);
    d.push(stream);
    expect(drain(d)).toEqual(expected);
    expect(d.bufferedBytes).toBe(0);
  });

  test('frames fed one byte at a time, and in chunks of every size', () => {
    for (let size = 1; size <= stream.length; size += 7) {
      const d = new FrameDecoder(1024);
      const got = [];
      for (let i = 0; i < stream.length; i += size) {
        d.push(stream.subarray(i, i + size));
        got.push(...drain(d));
      }
      expect(got, `chunk size ${size}`).toEqual(expected);
    }
  });

  test('a frame over the limit is refused as soon as its length prefix arrives', () => {
    const d = new FrameDecoder(100);
    d.push(new Uint8Array([0, 0, 0, 101]));
    expect(codeOf(() => d.next())).toBe(TransportErrorCode.FrameTooLarge);
    const ok = new FrameDecoder(100);
    ok.push(encodeFrame(FrameKind.Message, new Uint8Array(99)));
    expect(drain(ok)).toHaveLength(1);
  });

  test('the limit can be raised between frames of one chunk (after the handshake)', () => {
    const d = new FrameDecoder(10);
    d.push(new Uint8Array([...KEEPALIVE_FRAME, ...b]));
    expect(d.next()?.kind).toBe(FrameKind.KeepAlive);
    expect(codeOf(() => d.next())).toBe(TransportErrorCode.FrameTooLarge);
    d.setLimit(1000);
    expect(d.next()?.body.length).toBe(300);
  });

  test('length 0 and unknown kinds are BAD_FRAME', () => {
    const zero = new FrameDecoder(100);
    zero.push(new Uint8Array([0, 0, 0, 0]));
    expect(codeOf(() => zero.next())).toBe(TransportErrorCode.BadFrame);
    const kind = new FrameDecoder(100);
    kind.push(new Uint8Array([0, 0, 0, 1, 9]));
    expect(codeOf(() => kind.next())).toBe(TransportErrorCode.BadFrame);
  });

  test('a message frame is the codec bytes behind a 5-byte header', () => {
    const f = encodeMessageFrame({ type: 'timeoutNow', from: 'a', to: 'b', term: 1 });
    expect([...f.subarray(0, 5)]).toEqual([0, 0, 0, f.length - 4, FrameKind.Message]);
  });
});

describe('handshake', () => {
  const hello: Hello = { version: PROTOCOL_VERSION, clusterId: 'prod', from: 'c1', to: 'c2', maxFrameBytes: 1 << 20 };
  const peers = new Set(['c1', 'c3']);

  test('hello round trip, and it fits the pre-handshake frame limit at maximal sizes', () => {
    expect(decodeHello(encodeHello(hello))).toEqual(hello);
    const big = { ...hello, clusterId: 'k'.repeat(128), from: 'f'.repeat(64), to: 't'.repeat(64) };
    expect(encodeFrame(FrameKind.Hello, encodeHello(big)).length - 4).toBeLessThanOrEqual(MAX_HANDSHAKE_FRAME_BYTES);
    const close = encodeFrame(FrameKind.Close, encodeClose({ code: 'X'.repeat(40), reason: 'é'.repeat(2000) }));
    expect(close.length - 4).toBeLessThanOrEqual(MAX_HANDSHAKE_FRAME_BYTES);
  });

  test('bad magic, other version, malformed', () => {
    const wire = encodeHello(hello);
    const badMagic = wire.slice();
    badMagic[0] = 0;
    expect(codeOf(() => decodeHello(badMagic))).toBe(TransportErrorCode.BadHandshake);
    const v2 = wire.slice();
    new DataView(v2.buffer).setUint16(4, 2);
    expect(codeOf(() => decodeHello(v2))).toBe(TransportErrorCode.UnsupportedVersion);
    expect(codeOf(() => decodeHello(wire.subarray(0, wire.length - 1)))).toBe(TransportErrorCode.BadHandshake);
    expect(codeOf(() => decodeHello(new TextEncoder().encode('GET / HTTP/1.1\r\n')))).toBe(TransportErrorCode.BadHandshake);
    expect(new DataView(wire.buffer, wire.byteOffset).getUint32(0)).toBe(MAGIC);
  });

  test('acceptor refuses another cluster, an unknown or own id, a hello meant for someone else', () => {
    const expect2 = { clusterId: 'prod', self: 'c2', peers };
    expect(checkHello(hello, expect2)).toBeUndefined();
    expect(checkHello({ ...hello, clusterId: 'dev' }, expect2)?.code).toBe(TransportErrorCode.ClusterMismatch);
    expect(checkHello({ ...hello, from: 'c9' }, expect2)?.code).toBe(TransportErrorCode.UnknownPeer);
    expect(checkHello({ ...hello, from: 'c2' }, expect2)?.code).toBe(TransportErrorCode.UnknownPeer);
    expect(checkHello({ ...hello, to: 'c3' }, expect2)?.code).toBe(TransportErrorCode.Misaddressed);
    expect(checkHello({ ...hello, maxFrameBytes: 10 }, expect2)?.code).toBe(TransportErrorCode.BadHandshake);
  });

  test('dialer refuses an answer from another replica than the one it dialled', () => {
    const answer = { ...hello, from: 'c2', to: 'c1' };
    expect(checkHello(answer, { clusterId: 'prod', self: 'c1', from: 'c2' })).toBeUndefined();
    expect(checkHello(answer, { clusterId: 'prod', self: 'c1', from: 'c3' })?.code).toBe(TransportErrorCode.Misaddressed);
  });

  test('close frame round trip; long reasons are cut to the limit on a character boundary', () => {
    expect(decodeClose(encodeClose({ code: 'CLUSTER_MISMATCH', reason: 'no' }))).toEqual({ code: 'CLUSTER_MISMATCH', reason: 'no' });
    const long = decodeClose(encodeClose({ code: 'X', reason: '€'.repeat(1000) + '\ud800' }));
    expect(new TextEncoder().encode(long.reason).length).toBeLessThanOrEqual(MAX_REASON_BYTES);
    expect(long.reason).toBe('€'.repeat(Math.floor(MAX_REASON_BYTES / 3)));
  });
});

describe('SendQueue', () => {
  const f = (n: number, size = 1) => new Uint8Array(size).fill(n);

  test('drops the oldest beyond the message bound, keeps order', () => {
    const q = new SendQueue(3, 1000);
    const dropped = [1, 2, 3, 4, 5].map((n) => q.push(f(n)));
    expect(dropped).toEqual([0, 0, 0, 1, 1]);
    expect(q.take(1000).map((x) => x[0])).toEqual([3, 4, 5]);
    expect(q.length).toBe(0);
  });

  test('drops the oldest beyond the byte bound, but always keeps the newest', () => {
    const q = new SendQueue(100, 10);
    q.push(f(1, 4));
    q.push(f(2, 4));
    expect(q.push(f(3, 4))).toBe(1);
    expect(q.queuedBytes).toBe(8);
    expect(q.push(f(4, 50))).toBe(2);
    expect(q.take(1).map((x) => x[0])).toEqual([4]);
  });

  test('take() stops at the byte budget but always takes one', () => {
    const q = new SendQueue(100, 1000);
    for (let i = 0; i < 5; i++) q.push(f(i, 10));
    expect(q.take(25)).toHaveLength(2);
    expect(q.take(5)).toHaveLength(1);
    expect(q.take(1000)).toHaveLength(2);
  });

  test('stays correct across many pushes and takes (lazy compaction)', () => {
    const q = new SendQueue(100_000, 1 << 30);
    let next = 0;
    let expectNext = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 300; i++) q.push(new Uint8Array([next++ % 256]));
      for (const x of q.take(200)) expect(x[0]).toBe(expectNext++ % 256);
    }
    expect(q.length).toBe(next - expectNext);
  });
});
