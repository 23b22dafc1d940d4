/**
 * A connection a peer dialled to us, which carries that peer's messages.
 * Until its Hello is checked it may send one small frame; a sender of
 * another cluster, an id we do not know, or another protocol version is
 * refused with a close frame that says why, and nothing it sent is
 * delivered. After that every message frame is decoded and must come
 * from that peer and be addressed to us.
 */
import net, { type Socket } from 'node:net';
import type { Message, MemberId } from '../raft/index.js';
import type { TlsSource } from '../tls/tls-source.js';
import { decodeMessage } from './codec.js';
import { certificateRefusal } from './peer-certificate.js';
import { FramedSocket } from './connection.js';
import { TransportError, TransportErrorCode } from './errors.js';
import { FrameKind, KEEPALIVE_FRAME, encodeFrame, type Frame } from './framing.js';
import { PROTOCOL_VERSION, checkHello, decodeClose, decodeHello, encodeHello } from './handshake.js';
import { MAX_HANDSHAKE_FRAME_BYTES } from './limits.js';
import type { Counters, Direction, LogFn, PeerAddress } from './types.js';

export interface InboundContext {
  readonly self: MemberId;
  readonly clusterId: string;
  readonly maxFrameBytes: number;
  readonly keepAliveIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly counters: Counters;
  readonly log: LogFn;
  readonly peers: () => ReadonlyMap<MemberId, PeerAddress>;
  /** The handshake of `conn` was accepted: it is now the connection of its peer (any older one is replaced). */
  readonly register: (conn: InboundConnection) => void;
  readonly unregister: (conn: InboundConnection) => void;
  readonly deliver: (m: Message) => void;
  readonly onDisconnected: (peer: MemberId, direction: Direction) => void;
  readonly tls: TlsSource | undefined;
}

/** `::ffff:127.0.0.1` → `127.0.0.1`, so an IPv4 peer host compares equal. */
function plainAddress(a: string | undefined): string {
  return a?.startsWith('::ffff:') ? a.slice(7) : (a ?? '');
}

export class InboundConnection {
  /** Known once the handshake is accepted. */
  peer: MemberId | undefined;
  /** The id its hello claimed, kept for the log line of a refusal. */
  private claimed: MemberId | undefined;
  private open = false;
  /** Set when we close it on purpose (replaced, peer removed, shutdown): no disconnect event. */
  private quiet = false;
  private readonly conn: FramedSocket;
  private readonly remote: string;

  constructor(
    private readonly ctx: InboundContext,
    socket: Socket,
  ) {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, ctx.idleTimeoutMs);
    this.remote = `${plainAddress(socket.remoteAddress)}:${socket.remotePort ?? 0}`;
    this.conn = new FramedSocket(socket, MAX_HANDSHAKE_FRAME_BYTES, ctx.counters, {
      onFrame: (f) => this.onFrame(f),
      onFailure: (err) => this.onFailure(err),
      onClose: (error) => this.onClose(error),
    });
  }

  get isOpen(): boolean {
    return this.open;
  }

  get remoteAddress(): string {
    return plainAddress(this.conn.socket.remoteAddress);
  }

  /** Periodic: idle detection, and the keep-alive that lets the dialer tell we are alive. */
  tick(nowMs: number): void {
    if (this.conn.isClosing) return;
    if (nowMs - this.conn.lastReceivedAtMs > this.ctx.idleTimeoutMs) {
      const what = this.open ? `nothing received from ${this.peer}` : `no handshake from ${this.remote}`;
      this.ctx.log(this.open ? 'info' : 'warn', `closing inbound connection: ${what} for ${this.ctx.idleTimeoutMs} ms`, this.fields({ code: TransportErrorCode.PeerTimeout }));
      void this.conn.destroy();
      return;
    }
    if (this.open && this.conn.writableLength === 0 && nowMs - this.conn.lastSentAtMs >= this.ctx.keepAliveIntervalMs) {
      this.conn.write(KEEPALIVE_FRAME);
    }
  }

  /** Closes without a disconnect event. graceful: let the peer read what we sent (shutdown). */
  closeQuietly(graceful: boolean): Promise<void> {
    this.quiet = true;
    return graceful ? this.conn.end() : this.conn.destroy();
  }

  /** Closes with a reason the peer will log (e.g. it was removed from the members). */
  closeWith(code: TransportErrorCode, reason: string): void {
    this.quiet = true;
    this.conn.closeWith(code, reason);
  }

  whenClosed(): Promise<void> {
    return this.conn.whenClosed();
  }

  private onFrame(f: Frame): void {
    if (!this.open) {
      this.onHandshake(f);
      return;
    }
    switch (f.kind) {
      case FrameKind.Message: {
        const m = decodeMessage(f.body);
        if (m.from !== this.peer || m.to !== this.ctx.self) {
          throw new TransportError(TransportErrorCode.Misaddressed, `message ${m.from} → ${m.to} on the connection ${this.peer} → ${this.ctx.self}`);
        }
        this.ctx.counters.receivedMessages++;
        this.ctx.deliver(m);
        return;
      }
      case FrameKind.KeepAlive:
        return;
      case FrameKind.Close: {
        const { code, reason } = decodeClose(f.body);
        this.ctx.log('info', `peer ${this.peer} closed its connection to us: ${code}: ${reason}`, this.fields({ code }));
        void this.conn.destroy();
        return;
      }
      case FrameKind.Hello:
        throw new TransportError(TransportErrorCode.BadFrame, `second hello from ${this.peer}`);
    }
  }

  private onHandshake(f: Frame): void {
    if (f.kind !== FrameKind.Hello) {
      throw new TransportError(TransportErrorCode.BadHandshake, `first frame must be a hello, got kind ${f.kind}`);
    }
    const hello = decodeHello(f.body);
    this.claimed = hello.from;
    const peers = this.ctx.peers();
    const refusal = checkHello(hello, { clusterId: this.ctx.clusterId, self: this.ctx.self, peers }) ?? certificateRefusal(this.ctx.tls, this.conn.socket, hello.from);
    if (refusal !== undefined) throw refusal;
    this.peer = hello.from;
    this.open = true;
    this.conn.setFrameLimit(this.ctx.maxFrameBytes);
    this.conn.write(
      encodeFrame(
        FrameKind.Hello,
        encodeHello({ version: PROTOCOL_VERSION, clusterId: this.ctx.clusterId, from: this.ctx.self, to: hello.from, maxFrameBytes: this.ctx.maxFrameBytes }),
      ),
    );
    this.ctx.register(this);
    this.ctx.log('info', `accepted connection from ${hello.from}`, this.fields({ remoteAddress: this.remoteAddress }));
    // Every replica dials from its own host (DESIGN.md §1); if not, partition tests silently cut nothing.
    const expected = peers.get(hello.from)?.host;
    if (expected !== undefined && net.isIP(expected) !== 0 && expected !== this.remoteAddress) {
      this.ctx.log('warn', `peer ${hello.from} dials from ${this.remoteAddress}, not from its host ${expected}`, this.fields({ expected }));
    }
  }

  private onFailure(err: TransportError): void {
    const refused = !this.open;
    const who = this.peer ?? (this.claimed !== undefined ? `${JSON.stringify(this.claimed)} at ${this.remote}` : this.remote);
    this.ctx.log('warn', `${refused ? 'refused' : 'closing'} inbound connection from ${who}: ${err.message}`, this.fields({ code: err.code, refused }));
  }

  private onClose(error: Error | undefined): void {
    const wasOpen = this.open;
    this.open = false;
    this.ctx.unregister(this);
    if (!wasOpen || this.quiet) return;
    this.ctx.log('info', `connection from ${this.peer} lost${error ? `: ${error.message}` : ''}`, this.fields({}));
    this.ctx.onDisconnected(this.peer!, 'inbound');
  }

  private fields(extra: Record<string, unknown>): Record<string, unknown> {
    return { peer: this.peer ?? this.claimed, direction: 'inbound', remote: this.remote, ...extra };
  }
}
