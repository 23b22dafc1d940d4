/**
 * Our persistent connection to one peer, which carries our messages to it.
 * Dials from our own host (so a packet filter on loopback aliases can cut
 * one direction), handshakes, drains the peer's send queue with one socket
 * write per batch, and redials with jittered capped exponential backoff
 * for as long as the peer is in the member list.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { TlsSource } from '../tls/tls-source.js';
import { certificateRefusal } from './peer-certificate.js';
import type { MemberId } from '../raft/index.js';
import { backoffDelayMs } from '../common/backoff.js';
import { FramedSocket } from './connection.js';
import { TransportError, TransportErrorCode } from './errors.js';
import { FrameKind, KEEPALIVE_FRAME, encodeFrame, type Frame } from './framing.js';
import { PROTOCOL_VERSION, checkHello, decodeClose, decodeHello, encodeHello } from './handshake.js';
import type { ResolvedOptions } from './options.js';
import { MAX_HANDSHAKE_FRAME_BYTES } from './limits.js';
import { SendQueue } from './send-queue.js';
import type { Counters, Direction, LogFn, PeerAddress } from './types.js';

/** One socket.write takes at most this much of the queue (the rest waits for the next flush or 'drain'). */
const MAX_WRITE_BYTES = 1024 * 1024;
/** After a refusal the peer will refuse again until someone fixes a config: retry at the slowest pace. */
const REFUSED_ATTEMPT = 64;

/** The transport's settings an outbound connection needs (all but its own id and port), and its hooks. */
export interface OutboundContext extends Omit<ResolvedOptions, 'id' | 'peerPort'> {
  readonly self: MemberId;
  readonly counters: Counters;
  readonly log: LogFn;
  readonly onDisconnected: (peer: MemberId, direction: Direction) => void;
  readonly tls: TlsSource | undefined;
}

type State = 'idle' | 'handshaking' | 'open' | 'waiting' | 'stopped';

export class OutboundPeer {
  readonly queue: SendQueue;
  private state: State = 'idle';
  private conn: FramedSocket | undefined;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private awaitingDrain = false;
  /** Largest frame the peer accepts, from its Hello (until then, our own limit). */
  private peerMaxFrameBytes: number;
  /** Logged once per streak of failures, so a peer that is down costs one info line, not one per second. */
  private failureReported = false;
  private lastRefusal = '';
  /** Why we closed the current connection ourselves, for the log line of its close. */
  private closeReason: string | undefined;

  constructor(
    private readonly ctx: OutboundContext,
    readonly peer: MemberId,
    private address: PeerAddress,
  ) {
    this.queue = new SendQueue(ctx.maxQueuedMessages, ctx.maxQueuedBytes);
    this.peerMaxFrameBytes = ctx.maxFrameBytes;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Largest message frame worth sending: the peer would close the connection over a larger one. */
  get frameLimitBytes(): number {
    return this.peerMaxFrameBytes;
  }

  start(): void {
    if (this.state === 'idle') this.dial();
  }

  /** Queues a message frame; returns how many older frames were dropped for it. */
  enqueue(frame: Uint8Array): number {
    return this.queue.push(frame);
  }

  /** Writes queued frames while the socket takes them; batches of several frames become one write. */
  flush(): void {
    const conn = this.conn;
    if (this.state !== 'open' || conn === undefined || conn.isClosing) return;
    while (!this.awaitingDrain && this.queue.length > 0) {
      const frames = this.queue.take(MAX_WRITE_BYTES);
      const bytes = frames.length === 1 ? frames[0]! : Buffer.concat(frames);
      this.ctx.counters.socketWrites++;
      this.ctx.counters.sentMessages += frames.length;
      if (!conn.write(bytes)) this.awaitingDrain = true;
    }
  }

  /** Periodic: idle detection and keep-alive. */
  tick(nowMs: number): void {
    const conn = this.conn;
    if (conn === undefined || conn.isClosing) return;
    if (nowMs - conn.lastReceivedAtMs > this.ctx.idleTimeoutMs) {
      // The path is presumably dead, so no goodbye: destroy at once and redial.
      this.closeReason = this.state === 'open' ? `nothing received for ${this.ctx.idleTimeoutMs} ms` : `no handshake answer within ${this.ctx.idleTimeoutMs} ms`;
      void conn.destroy();
      return;
    }
    if (this.state === 'open' && conn.writableLength === 0 && nowMs - conn.lastSentAtMs >= this.ctx.keepAliveIntervalMs) {
      conn.write(KEEPALIVE_FRAME);
    }
  }

  /** The peer moved (membership change with a new address): redial at once. */
  setAddress(address: PeerAddress): void {
    if (address.host === this.address.host && address.peerPort === this.address.peerPort) return;
    this.address = address;
    if (this.state === 'stopped' || this.state === 'idle') return;
    this.attempt = 0;
    const conn = this.conn;
    this.conn = undefined;
    clearTimeout(this.retryTimer);
    if (conn !== undefined) void conn.destroy();
    this.dial();
  }

  /**
   * Stops for good. graceful: writes what is queued and ends the connection
   * (close()); otherwise discards the queue (peer removed). No disconnect
   * event either way: we chose to close.
   */
  stop(graceful: boolean): Promise<void> {
    const conn = this.conn;
    const wasOpen = this.state === 'open';
    if (graceful && wasOpen) {
      this.awaitingDrain = false;
      this.flush();
    }
    this.state = 'stopped';
    clearTimeout(this.retryTimer);
    this.ctx.counters.dropped += this.queue.clear();
    this.conn = undefined;
    if (conn === undefined) return Promise.resolve();
    return wasOpen && graceful ? conn.end() : conn.destroy();
  }

  private dial(): void {
    this.state = 'handshaking';
    this.awaitingDrain = false;
    const { host, peerPort } = this.address;
    const dialOptions = {
      host,
      port: peerPort,
      // A name cannot be a source address; DESIGN.md §1 gives IPs, and only those can be partitioned per replica.
      ...(net.isIP(this.ctx.host) !== 0 ? { localAddress: this.ctx.host } : {}),
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: this.ctx.idleTimeoutMs,
    };
    const { tls: source } = this.ctx;
    // Only a coordinator certificate may answer a dial to a replica; which one is checked with its hello.
    const socket = source === undefined ? net.connect(dialOptions) : tls.connect({ ...dialOptions, ...source.clientOptions(['coordinator']) });
    // tls.connect ignores the noDelay option: without this, frames wait for the peer's delayed ACK (Nagle).
    socket.setNoDelay(true);
    const conn: FramedSocket = new FramedSocket(socket, MAX_HANDSHAKE_FRAME_BYTES, this.ctx.counters, {
      onFrame: (f) => this.onFrame(conn, f),
      onFailure: (err) => this.ctx.log('warn', `closing connection to ${this.peer}: ${err.message}`, this.fields({ code: err.code })),
      onClose: (error) => this.onClose(conn, error),
    });
    socket.on('drain', () => {
      if (this.conn !== conn) return;
      this.awaitingDrain = false;
      this.flush();
    });
    this.conn = conn;
    conn.write(
      encodeFrame(
        FrameKind.Hello,
        encodeHello({ version: PROTOCOL_VERSION, clusterId: this.ctx.clusterId, from: this.ctx.self, to: this.peer, maxFrameBytes: this.ctx.maxFrameBytes }),
      ),
    );
  }

  private onFrame(conn: FramedSocket, f: Frame): void {
    if (this.conn !== conn) return;
    if (f.kind === FrameKind.Close) {
      const { code, reason } = decodeClose(f.body);
      if (this.state === 'handshaking') {
        // Refused: likely a configuration error on one side. Say it once per distinct reason.
        this.attempt = REFUSED_ATTEMPT;
        const text = `${code}: ${reason}`;
        this.ctx.log(text === this.lastRefusal ? 'debug' : 'warn', `peer ${this.peer} refused our connection: ${text}`, this.fields({ code }));
        this.lastRefusal = text;
      } else {
        this.ctx.log('info', `peer ${this.peer} closed our connection: ${code}: ${reason}`, this.fields({ code }));
      }
      void conn.destroy();
      return;
    }
    if (this.state === 'handshaking') {
      if (f.kind !== FrameKind.Hello) throw new TransportError(TransportErrorCode.BadHandshake, `expected a hello from ${this.peer}, got frame kind ${f.kind}`);
      const hello = decodeHello(f.body);
      const refusal = checkHello(hello, { clusterId: this.ctx.clusterId, self: this.ctx.self, from: this.peer }) ?? certificateRefusal(this.ctx.tls, conn.socket, hello.from);
      if (refusal !== undefined) {
        this.attempt = REFUSED_ATTEMPT;
        throw refusal;
      }
      this.peerMaxFrameBytes = hello.maxFrameBytes;
      conn.setFrameLimit(MAX_HANDSHAKE_FRAME_BYTES);
      this.state = 'open';
      this.attempt = 0;
      this.failureReported = false;
      this.lastRefusal = '';
      this.ctx.log('info', `connected to ${this.peer}`, this.fields({ localAddress: conn.socket.localAddress, localPort: conn.socket.localPort }));
      this.flush();
      return;
    }
    // The acceptor sends nothing but keep-alives after its hello.
    if (f.kind !== FrameKind.KeepAlive) throw new TransportError(TransportErrorCode.BadFrame, `unexpected frame kind ${f.kind} from ${this.peer} on our outbound connection`);
  }

  private onClose(conn: FramedSocket, error: Error | undefined): void {
    if (this.conn !== conn) return;
    const wasOpen = this.state === 'open';
    this.conn = undefined;
    this.awaitingDrain = false;
    if (this.state === 'stopped') return;
    const cause = this.closeReason ?? error?.message;
    this.closeReason = undefined;
    const why = cause !== undefined ? `: ${cause}` : '';
    if (wasOpen) {
      this.ctx.log('info', `connection to ${this.peer} lost${why}`, this.fields({}));
      this.ctx.onDisconnected(this.peer, 'outbound');
    } else if (!this.failureReported) {
      this.failureReported = true;
      this.ctx.log('info', `cannot reach ${this.peer}${why}; retrying`, this.fields({}));
    } else {
      this.ctx.log('debug', `cannot reach ${this.peer}${why}; retrying`, this.fields({}));
    }
    this.state = 'waiting';
    const delay = backoffDelayMs(this.attempt + 1, this.ctx.reconnectMinMs, this.ctx.reconnectMaxMs);
    this.attempt = Math.min(this.attempt + 1, REFUSED_ATTEMPT);
    this.retryTimer = setTimeout(() => {
      if (this.state === 'waiting') this.dial();
    }, delay);
    this.retryTimer.unref();
  }

  private fields(extra: Record<string, unknown>): Record<string, unknown> {
    return { peer: this.peer, direction: 'outbound', address: `${this.address.host}:${this.address.peerPort}`, ...extra };
  }
}
