// PeerTransport over real sockets on loopback (random ports, everything closed in afterEach).
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import type { Message } from '../../src/raft/index.js';
import { encodeMessage } from '../../src/transport/codec.js';
import { FrameKind, encodeFrame, encodeMessageFrame } from '../../src/transport/framing.js';
import { PROTOCOL_VERSION, decodeClose, decodeHello, encodeHello } from '../../src/transport/handshake.js';
import { PeerTransport, TransportError, TransportErrorCode } from '../../src/transport/index.js';
import { CLUSTER, HOST, Harness, RawConn, heartbeat, nextTurn, waitFor, type LogRecord, type Node } from './helpers.js';

const h = new Harness();
afterEach(() => h.cleanup());

const seqs = (n: Node, from?: string) => n.received.filter((m) => from === undefined || m.from === from).map((m) => (m as Extract<Message, { type: 'heartbeat' }>).readSeq);
const range = (lo: number, hi: number) => Array.from({ length: hi - lo }, (_, i) => lo + i);
const withCode = (logs: readonly LogRecord[], code: TransportErrorCode) => logs.filter((l) => l.fields.code === code);

describe('delivery', () => {
  test('two transports exchange messages in order, both ways', async () => {
    const [a, b] = await h.cluster(['a', 'b']);
    for (let turn = 0; turn < 10; turn++) {
      a!.t.send(range(turn * 100, turn * 100 + 100).map((i) => heartbeat('a', 'b', i)));
      b!.t.send(range(turn * 100, turn * 100 + 100).map((i) => heartbeat('b', 'a', i)));
      await nextTurn();
    }
    await waitFor('1000 messages each way', () => a!.received.length === 1000 && b!.received.length === 1000);
    expect(seqs(b!)).toEqual(range(0, 1000));
    expect(seqs(a!)).toEqual(range(0, 1000));
    expect(b!.received[0]).toEqual(heartbeat('a', 'b', 0));
    expect(a!.t.stats()).toMatchObject({ sentMessages: 1000, receivedMessages: 1000, dropped: 0, rejected: 0, connected: ['b'], inbound: ['b'] });
  });

  test('three transports: every pair, in order; entries and snapshots arrive intact', async () => {
    const nodes = await h.cluster(['c1', 'c2', 'c3']);
    const data = new Uint8Array(200_000).map((_, i) => i * 7);
    for (const from of nodes) {
      for (const to of nodes) {
        if (from === to) continue;
        from.t.send([
          ...range(0, 50).map((i) => heartbeat(from.id, to.id, i)),
          { type: 'app', from: from.id, to: to.id, term: 2, prevIndex: 1, prevTerm: 1, commit: 1, entries: [{ index: 2, term: 2, type: 0, data: data.subarray(0, 100) }] },
          { type: 'snap', from: from.id, to: to.id, term: 2, snapshot: { meta: { index: 9, term: 2, conf: { voters: ['c1', 'c2', 'c3'], learners: [] } }, data } },
        ]);
      }
    }
    await waitFor('52 messages from each of 2 peers', () => nodes.every((n) => n.received.length === 104));
    for (const n of nodes) {
      for (const from of nodes.filter((x) => x !== n)) {
        const got = n.received.filter((m) => m.from === from.id);
        expect(got.slice(0, 50).map((m) => (m as { readSeq: number }).readSeq)).toEqual(range(0, 50));
        expect(got[50]).toMatchObject({ type: 'app', entries: [{ index: 2, data: data.subarray(0, 100) }] });
        const snap = got[51] as Extract<Message, { type: 'snap' }>;
        expect(snap.snapshot.meta.conf.voters).toEqual(['c1', 'c2', 'c3']);
        expect(Buffer.from(snap.snapshot.data).equals(Buffer.from(data))).toBe(true);
      }
    }
  });

  test('messages of one event-loop turn leave in one socket write per peer', async () => {
    const [a, b] = await h.cluster(['a', 'b']);
    const writes0 = a!.t.stats().socketWrites;
    a!.t.send(range(0, 100).map((i) => heartbeat('a', 'b', i)));
    a!.t.send(range(100, 150).map((i) => heartbeat('a', 'b', i)));
    // A promise continuation of the same turn joins the batch too.
    await Promise.resolve().then(() => a!.t.send([heartbeat('a', 'b', 150)]));
    await waitFor('151 messages', () => b!.received.length === 151);
    expect(a!.t.stats().socketWrites - writes0).toBe(1);
    expect(seqs(b!)).toEqual(range(0, 151));

    // Separate turns: separate writes.
    const writes1 = a!.t.stats().socketWrites;
    for (let i = 0; i < 3; i++) {
      a!.t.send([heartbeat('a', 'b', 1000 + i)]);
      await new Promise((r) => setTimeout(r, 0));
      await nextTurn();
    }
    await waitFor('3 more', () => b!.received.length === 154);
    expect(a!.t.stats().socketWrites - writes1).toBe(3);
  });

  test('a burst far larger than the socket buffer arrives complete and in order (drain, several writes)', async () => {
    const [a, b] = await h.cluster(['a', 'b']);
    const data = new Uint8Array(100_000).fill(3);
    const app = (i: number): Message => ({ type: 'app', from: 'a', to: 'b', term: 1, prevIndex: i, prevTerm: 1, commit: 0, entries: [{ index: i + 1, term: 1, type: 0, data }] });
    a!.t.send(range(0, 300).map(app));
    await waitFor('300 appends of 100 kB', () => b!.received.length === 300, 30_000);
    expect(b!.received.map((m) => (m as Extract<Message, { type: 'app' }>).prevIndex)).toEqual(range(0, 300));
    expect(a!.t.stats().socketWrites).toBeGreaterThan(1);
    expect(a!.t.stats().dropped).toBe(0);
  });

  test('send() refuses, without throwing, what it cannot deliver', async () => {
    const [a, b] = await h.cluster(['a', 'b']);
    a!.t.send([
      heartbeat('a', 'zz', 1), // not a peer
      heartbeat('x', 'b', 2), // not from us
      { ...heartbeat('a', 'b', 3), term: -1 }, // not encodable
      heartbeat('a', 'b', 4),
    ]);
    await waitFor('the good one', () => b!.received.length === 1);
    expect(seqs(b!)).toEqual([4]);
    expect(a!.t.stats().rejected).toBe(3);
    expect(a!.logs.filter((l) => l.level === 'error')).toHaveLength(2);
  });

  test('a frame larger than the peer accepts is refused at the sender (learned from its hello)', async () => {
    const a = await h.node('a');
    const b = await h.node('b', { maxFrameBytes: 4096 });
    a.t.setPeers(new Map([['b', b.addr]]));
    b.t.setPeers(new Map([['a', a.addr]]));
    await waitFor('connected', () => a.t.stats().connected.length === 1);
    const big: Message = { type: 'snap', from: 'a', to: 'b', term: 1, snapshot: { meta: { index: 1, term: 1, conf: { voters: ['a'], learners: [] } }, data: new Uint8Array(5000) } };
    a.t.send([big, heartbeat('a', 'b', 1)]);
    await waitFor('heartbeat', () => b.received.length === 1);
    expect(a.t.stats().rejected).toBe(1);
    expect(a.logs.some((l) => l.level === 'error' && /maxFrameBytes/.test(l.msg))).toBe(true);
    expect(a.t.stats().connected).toEqual(['b']);
  });
});

describe('handshake refusal', () => {
  test('a peer of another cluster is refused; nothing it sends is delivered; both ends say why', async () => {
    const b = await h.node('b', { clusterId: 'other-cluster' });
    const a = await h.node('a', { peers: new Map([['b', b.addr]]) });
    b.t.setPeers(new Map([['a', a.addr]]));
    a.t.send([heartbeat('a', 'b', 1)]);
    await waitFor('b logs the refusal', () => withCode(b.logs, TransportErrorCode.ClusterMismatch).length > 0);
    await waitFor('a logs the refusal', () => withCode(a.logs, TransportErrorCode.ClusterMismatch).length > 0);
    expect(withCode(b.logs, TransportErrorCode.ClusterMismatch)[0]).toMatchObject({ level: 'warn', fields: { peer: 'a', refused: true } });
    expect(withCode(b.logs, TransportErrorCode.ClusterMismatch)[0]!.msg).toMatch(/test-cluster/);
    expect(b.received).toEqual([]);
    expect(a.t.stats().connected).toEqual([]);
    expect(b.t.stats().inbound).toEqual([]);
    expect(a.disconnects).toEqual([]);
  });

  test('an unknown sender id is refused', async () => {
    const b = await h.node('b');
    const a = await h.node('a', { peers: new Map([['b', b.addr]]) });
    a.t.send([heartbeat('a', 'b', 1)]);
    await waitFor('b refuses a', () => withCode(b.logs, TransportErrorCode.UnknownPeer).length > 0);
    await waitFor('a hears why', () => a.logs.some((l) => l.fields.code === TransportErrorCode.UnknownPeer && /refused/.test(l.msg)));
    expect(b.received).toEqual([]);
    expect(a.t.stats().connected).toEqual([]);
  });

  test('an unsupported version, a wrong magic and a first frame that is not a hello get a close frame with the reason', async () => {
    const b = await h.node('b', { peers: new Map([['a', { host: HOST, peerPort: 1 }]]) });
    const cases: [(c: RawConn) => void, TransportErrorCode][] = [
      [(c) => c.hello({ from: 'a', to: 'b', version: 2 }), TransportErrorCode.UnsupportedVersion],
      [(c) => c.write(encodeFrame(FrameKind.Hello, new Uint8Array([1, 2, 3, 4, 0, 1]))), TransportErrorCode.BadHandshake],
      [(c) => c.write(encodeMessageFrame(heartbeat('a', 'b', 1))), TransportErrorCode.BadHandshake],
      [(c) => c.write(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), TransportErrorCode.FrameTooLarge],
      [(c) => c.hello({ from: 'a', to: 'c' }), TransportErrorCode.Misaddressed],
    ];
    for (const [act, code] of cases) {
      const c = await RawConn.dial(h, b.addr);
      act(c);
      await waitFor(`closed with ${code}`, () => c.closed);
      expect(c.kinds()).toEqual([FrameKind.Close]);
      expect(decodeClose(c.frames[0]!.body).code).toBe(code);
      expect(withCode(b.logs, code).length).toBeGreaterThan(0);
    }
    expect(b.received).toEqual([]);
  });

  test('a connection that never says hello is closed after idleTimeoutMs', async () => {
    const b = await h.node('b', { keepAliveIntervalMs: 20, idleTimeoutMs: 100 });
    const c = await RawConn.dial(h, b.addr);
    await waitFor('closed', () => c.closed);
    expect(withCode(b.logs, TransportErrorCode.PeerTimeout)).toHaveLength(1);
  });
});

describe('protocol errors after the handshake close that connection only', () => {
  async function acceptedRaw(o: { maxFrameBytes?: number } = {}) {
    const b = await h.node('b', { peers: new Map([['a', { host: HOST, peerPort: 1 }]]), ...o });
    const c = await RawConn.dial(h, b.addr);
    c.hello({ from: 'a', to: 'b' });
    await waitFor('hello answered', () => c.frames.length === 1);
    expect(decodeHello(c.frames[0]!.body)).toMatchObject({ from: 'b', to: 'a', clusterId: CLUSTER, maxFrameBytes: o.maxFrameBytes ?? 64 * 1024 * 1024 });
    return { b, c };
  }

  test('a frame over maxFrameBytes: the connection is closed with FRAME_TOO_LARGE, earlier messages were delivered', async () => {
    const { b, c } = await acceptedRaw({ maxFrameBytes: 10_000 });
    c.write(encodeMessageFrame(heartbeat('a', 'b', 1)));
    const header = new Uint8Array([0, 0, 0x27, 0x11, FrameKind.Message]); // length 10_001
    c.write(header);
    c.write(encodeMessageFrame(heartbeat('a', 'b', 2)));
    await waitFor('closed', () => c.closed);
    expect(seqs(b)).toEqual([1]);
    expect(decodeClose(c.frames[1]!.body)).toMatchObject({ code: TransportErrorCode.FrameTooLarge });
    expect(withCode(b.logs, TransportErrorCode.FrameTooLarge)[0]!.msg).toMatch(/10001 bytes exceeds the limit of 10000/);
    expect(b.disconnects).toEqual([{ peer: 'a', direction: 'inbound' }]);
  });

  test('a malformed message: BAD_FRAME', async () => {
    const { b, c } = await acceptedRaw();
    const wire = encodeMessage(heartbeat('a', 'b', 1));
    c.write(encodeFrame(FrameKind.Message, wire.subarray(0, wire.length - 1)));
    await waitFor('closed', () => c.closed);
    expect(decodeClose(c.frames[1]!.body).code).toBe(TransportErrorCode.BadFrame);
    expect(b.received).toEqual([]);
  });

  test('a message from someone else than the connected peer: MISADDRESSED', async () => {
    const { b, c } = await acceptedRaw();
    c.write(encodeMessageFrame(heartbeat('c', 'b', 1)));
    await waitFor('closed', () => c.closed);
    expect(decodeClose(c.frames[1]!.body).code).toBe(TransportErrorCode.Misaddressed);
    expect(b.received).toEqual([]);
  });

  test('garbage frames never crash the process; the transport keeps serving', async () => {
    const { b } = await acceptedRaw();
    for (let i = 0; i < 20; i++) {
      const c = await RawConn.dial(h, b.addr);
      c.hello({ from: 'a', to: 'b' });
      c.write(encodeFrame(FrameKind.Message, new Uint8Array(50).map(() => Math.floor(Math.random() * 256))));
      await waitFor('closed', () => c.closed);
    }
    const c = await RawConn.dial(h, b.addr);
    c.hello({ from: 'a', to: 'b' });
    c.write(encodeMessageFrame(heartbeat('a', 'b', 42)));
    await waitFor('delivered', () => b.received.length > 0);
    expect(seqs(b)).toContain(42);
  });
});

describe('connection lifecycle', () => {
  test('onPeerDisconnected fires for both connections when the peer transport closes', async () => {
    const [a, b] = await h.cluster(['a', 'b']);
    await h.close(b!.t);
    await waitFor('both directions reported', () => a!.disconnects.length === 2);
    expect(a!.disconnects).toEqual(expect.arrayContaining([
      { peer: 'b', direction: 'outbound' },
      { peer: 'b', direction: 'inbound' },
    ]));
    // The closing side reports nothing: it chose to close.
    expect(b!.disconnects).toEqual([]);
    expect(a!.t.stats().connected).toEqual([]);
  });

  test('close() still writes what send() queued in the same turn', async () => {
    const [a, b] = await h.cluster(['a', 'b']);
    a!.t.send(range(0, 20).map((i) => heartbeat('a', 'b', i)));
    await h.close(a!.t);
    await waitFor('all 20 delivered', () => b!.received.length === 20);
    expect(seqs(b!)).toEqual(range(0, 20));
    a!.t.send([heartbeat('a', 'b', 99)]); // after close: ignored, no throw
  });

  test('reconnects after the peer restarts on the same port; queued messages flow to the new instance', async () => {
    const [a, b] = await h.cluster(['a', 'b']);
    a!.t.send([heartbeat('a', 'b', 1)]);
    await waitFor('first', () => b!.received.length === 1);
    const port = b!.addr.peerPort;
    await h.close(b!.t);
    await waitFor('a saw it go', () => a!.t.stats().connected.length === 0);
    a!.t.send([heartbeat('a', 'b', 2), heartbeat('a', 'b', 3)]);
    const b2 = await h.node('b', { peerPort: port, peers: new Map([['a', a!.addr]]) });
    await waitFor('queued messages arrive at the new b', () => b2.received.length === 2);
    expect(seqs(b2)).toEqual([2, 3]);
    b2.t.send([heartbeat('b', 'a', 9)]);
    await waitFor('and back', () => a!.received.length === 1);
    expect(a!.t.stats().connected).toEqual(['b']);
  });

  test('while the peer is down the queue keeps the newest maxQueuedMessages and counts the drops', async () => {
    const port = await h.freePort();
    const a = await h.node('a', { maxQueuedMessages: 4, peers: new Map([['b', { host: HOST, peerPort: port }]]) });
    for (let i = 1; i <= 10; i++) a.t.send([heartbeat('a', 'b', i)]);
    expect(a.t.stats()).toMatchObject({ dropped: 6, queued: 4, connected: [] });
    const b = await h.node('b', { peerPort: port, peers: new Map([['a', a.addr]]) });
    await waitFor('the newest 4', () => b.received.length === 4);
    expect(seqs(b)).toEqual([7, 8, 9, 10]);
    expect(a.t.stats().queued).toBe(0);
  });

  test('a peer that goes silent is dropped after idleTimeoutMs, reported, and redialled', async () => {
    const accepted: net.Socket[] = [];
    const silent = h.track(
      net.createServer((s) => {
        accepted.push(h.track(s));
        s.on('error', () => {});
        // Answer the hello, then never send another byte (a hung process).
        s.once('data', () => s.write(encodeFrame(FrameKind.Hello, encodeHello({ version: PROTOCOL_VERSION, clusterId: CLUSTER, from: 'b', to: 'a', maxFrameBytes: 1 << 20 }))));
      }),
    );
    await new Promise<void>((r) => silent.listen(0, HOST, r));
    const port = (silent.address() as net.AddressInfo).port;
    const a = await h.node('a', { keepAliveIntervalMs: 20, idleTimeoutMs: 150, peers: new Map([['b', { host: HOST, peerPort: port }]]) });
    await waitFor('connected', () => a.t.stats().connected.length === 1);
    await waitFor('dropped and reported', () => a.disconnects.length === 1);
    expect(a.disconnects[0]).toEqual({ peer: 'b', direction: 'outbound' });
    await waitFor('redialled', () => accepted.length >= 2);
  });

  test('keep-alives hold an idle connection open', async () => {
    const [a, b] = await h.cluster(['a', 'b'], { keepAliveIntervalMs: 30, idleTimeoutMs: 500 });
    const start = [a!.t.stats().receivedBytes, b!.t.stats().receivedBytes];
    // 5-byte keep-alive frames, one per 30-60 ms: 60 of them each way span several idle timeouts.
    await waitFor('keep-alives flowing', () => a!.t.stats().receivedBytes - start[0]! >= 300 && b!.t.stats().receivedBytes - start[1]! >= 300);
    expect(a!.disconnects).toEqual([]);
    expect(b!.disconnects).toEqual([]);
    expect(a!.t.stats().connected).toEqual(['b']);
    expect(b!.t.stats().connected).toEqual(['a']);
  });

  test('setPeers: a new member is dialled, a removed one is dropped without a disconnect event', async () => {
    const [a, b] = await h.cluster(['a', 'b']);
    const c = await h.node('c');
    const all = new Map([['a', a!.addr], ['b', b!.addr], ['c', c.addr]]);
    a!.t.setPeers(all);
    c.t.setPeers(all);
    await waitFor('a ↔ c', () => a!.t.stats().connected.includes('c') && c.t.stats().connected.includes('a'));
    a!.t.send([heartbeat('a', 'c', 1)]);
    await waitFor('delivered to c', () => c.received.length === 1);

    a!.t.setPeers(new Map([['a', a!.addr], ['c', c.addr]]));
    expect(a!.t.stats().connected).toEqual(['c']);
    await waitFor('a drops b inbound', () => !a!.t.stats().inbound.includes('b'));
    expect(a!.disconnects).toEqual([]);
    a!.t.send([heartbeat('a', 'b', 2)]);
    expect(a!.t.stats().rejected).toBe(1);
  });

  test('start() twice, or after close, and a port in use are refused with a TransportError', async () => {
    const a = await h.node('a');
    await expect(a.t.start()).rejects.toMatchObject({ code: TransportErrorCode.Closed });
    const clash = new PeerTransport({ id: 'x', clusterId: CLUSTER, host: HOST, peerPort: a.addr.peerPort, peers: new Map() }, { onMessage: () => {} });
    const err = await clash.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe(TransportErrorCode.ListenFailed);
    await clash.close();
    expect(() => new PeerTransport({ id: 'x'.repeat(65), clusterId: CLUSTER, host: HOST, peerPort: 0, peers: new Map() }, { onMessage: () => {} })).toThrow(TransportError);
  });

  test('an onMessage that throws is logged and does not break the connection', async () => {
    let calls = 0;
    const a = await h.node('a');
    const b = await h.node('b', {
      peers: new Map([['a', a.addr]]),
      onMessage: () => {
        calls++;
        if (calls === 1) throw new Error('consumer bug');
      },
    });
    a.t.setPeers(new Map([['b', b.addr]]));
    a.t.send([heartbeat('a', 'b', 1)]);
    a.t.send([heartbeat('a', 'b', 2)]);
    await waitFor('both delivered', () => calls === 2);
    expect(b.logs.some((l) => l.level === 'error' && /consumer bug/.test(l.msg))).toBe(true);
    expect(b.disconnects).toEqual([]);
  });
});
