// Real-socket test scaffolding: transports on 127.0.0.1 with free ports, raw peers, cleanup, condition waits.
import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import type { Message, MemberId } from '../../src/raft/index.js';
import { FrameDecoder, FrameKind, encodeFrame, type Frame } from '../../src/transport/framing.js';
import { PROTOCOL_VERSION, encodeHello, type Hello } from '../../src/transport/handshake.js';
import { PeerTransport } from '../../src/transport/index.js';
import type { MessageLevel } from '../../src/observability/index.js';
import type { Direction, PeerAddress, PeerTransportOptions } from '../../src/transport/types.js';
import { waitFor } from '../support/wait-for.js';

export const HOST = '127.0.0.1';
export const CLUSTER = 'test-cluster';


export const nextTurn = () => new Promise<void>((r) => setImmediate(r));

export interface LogRecord {
  readonly level: MessageLevel;
  readonly msg: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface Node {
  readonly id: MemberId;
  readonly t: PeerTransport;
  readonly received: Message[];
  readonly disconnects: { peer: MemberId; direction: Direction }[];
  readonly logs: LogRecord[];
  readonly addr: PeerAddress;
}

export const heartbeat = (from: MemberId, to: MemberId, readSeq: number): Message => ({ type: 'heartbeat', from, to, term: 1, commit: 0, readSeq });

type Overrides = Partial<Omit<PeerTransportOptions, 'id' | 'peers'>>;

/** Owns everything a test opens and closes it all in afterEach, even when the test failed half-way. */
export class Harness {
  private readonly transports = new Set<PeerTransport>();
  private readonly sockets = new Set<Socket>();
  private readonly servers = new Set<Server>();

  /** Starts a transport (peers may be filled in later with setPeers). */
  async node(id: MemberId, opts: Overrides & { peers?: ReadonlyMap<MemberId, PeerAddress>; onMessage?: (m: Message) => void } = {}): Promise<Node> {
    const { onMessage, ...o } = opts;
    const received: Message[] = [];
    const disconnects: Node['disconnects'] = [];
    const logs: LogRecord[] = [];
    const t = new PeerTransport(
      { id, clusterId: CLUSTER, host: HOST, peerPort: 0, peers: new Map(), reconnectMinMs: 10, reconnectMaxMs: 100, ...o },
      {
        onMessage: onMessage ?? ((m) => received.push(m)),
        onPeerDisconnected: (peer, direction) => disconnects.push({ peer, direction }),
        log: (level, msg, fields) => logs.push({ level, msg, fields }),
      },
    );
    this.transports.add(t);
    await t.start();
    return { id, t, received, disconnects, logs, addr: t.address() };
  }

  /** Nodes that all know each other, with their outbound connections established. */
  async cluster(ids: readonly MemberId[], o: Overrides = {}): Promise<Node[]> {
    const nodes: Node[] = [];
    for (const id of ids) nodes.push(await this.node(id, o));
    const peers = new Map(nodes.map((n) => [n.id, n.addr]));
    for (const n of nodes) n.t.setPeers(peers);
    await waitFor('full mesh', () => nodes.every((n) => n.t.stats().connected.length === ids.length - 1 && n.t.stats().inbound.length === ids.length - 1));
    return nodes;
  }

  async close(t: PeerTransport): Promise<void> {
    await t.close();
    this.transports.delete(t);
  }

  track<T extends Socket | Server>(x: T): T {
    if (x instanceof net.Server) this.servers.add(x);
    else this.sockets.add(x as Socket);
    return x;
  }

  /** A port nobody listens on right now (for a peer that is down). */
  async freePort(host = HOST): Promise<number> {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, host, r));
    const { port } = s.address() as AddressInfo;
    await new Promise<void>((r) => s.close(() => r()));
    return port;
  }

  async cleanup(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all([...this.transports].map((t) => t.close()));
    await Promise.all([...this.servers].map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.transports.clear();
    this.sockets.clear();
    this.servers.clear();
  }
}

/** A hand-driven peer connection, for speaking the protocol wrongly on purpose. */
export class RawConn {
  readonly frames: Frame[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024);

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk);
      // Copy bodies: the decoder's views are only valid until the next push.
      for (let f = this.decoder.next(); f; f = this.decoder.next()) this.frames.push({ kind: f.kind, body: f.body.slice() });
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static async dial(h: Harness, to: PeerAddress, localAddress = HOST): Promise<RawConn> {
    const socket = h.track(net.connect({ host: to.host, port: to.peerPort, localAddress }));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawConn(socket);
  }

  hello(h: Partial<Hello> & { from: MemberId; to: MemberId }): void {
    this.socket.write(encodeFrame(FrameKind.Hello, encodeHello({ version: PROTOCOL_VERSION, clusterId: CLUSTER, maxFrameBytes: 64 * 1024 * 1024, ...h })));
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  kinds(): FrameKind[] {
    return this.frames.map((f) => f.kind);
  }
}

export { waitFor };
