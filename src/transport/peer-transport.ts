/**
 * Replica-to-replica message delivery over raw TCP (DESIGN.md §2).
 *
 * Each replica keeps one outbound connection per peer and sends its
 * messages only on it; the peers' dials to us carry theirs. So a packet
 * filter that cuts A→B stops exactly A's messages to B. Messages handed to
 * send() during one event-loop turn leave as one socket write per peer.
 */
import net, { type AddressInfo, type Socket } from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import type { MessageLevel } from '../observability/index.js';
import type { Message, MemberId } from '../raft/index.js';
import { TransportError, TransportErrorCode } from './errors.js';
import { encodeMessageFrame, frameLength } from './framing.js';
import { InboundConnection, type InboundContext } from './inbound.js';
import { resolveOptions, resolvePeers, type ResolvedOptions } from './options.js';
import { OutboundPeer, type OutboundContext } from './outbound.js';
import type { Counters, Direction, LogFn, PeerAddress, PeerTransportModules, PeerTransportOptions, TransportStats } from './types.js';

const noLog: LogFn = () => {};

export class PeerTransport {
  private readonly opts: ResolvedOptions;
  private readonly log: LogFn;
  private readonly counters: Counters = { sentMessages: 0, receivedMessages: 0, sentBytes: 0, receivedBytes: 0, socketWrites: 0, dropped: 0, rejected: 0 };
  private state: 'new' | 'running' | 'closed' = 'new';
  private peers = new Map<MemberId, PeerAddress>();
  private readonly outbound = new Map<MemberId, OutboundPeer>();
  /** Established inbound connection per peer. */
  private readonly inbound = new Map<MemberId, InboundConnection>();
  /** Every accepted socket, also those still handshaking. */
  private readonly accepted = new Set<InboundConnection>();
  private readonly dirty = new Set<OutboundPeer>();
  private flushHandle: NodeJS.Immediate | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private server: net.Server | undefined;
  private port: number;
  private closing: Promise<void> | undefined;
  private readonly outboundCtx: OutboundContext;
  private readonly inboundCtx: InboundContext;

  constructor(
    options: PeerTransportOptions,
    private readonly modules: PeerTransportModules,
  ) {
    this.opts = resolveOptions(options);
    this.port = this.opts.peerPort;
    this.log = modules.log ?? noLog;
    const o = this.opts;
    const onDisconnected = (peer: MemberId, direction: Direction) => this.disconnected(peer, direction);
    this.outboundCtx = { ...o, self: o.id, counters: this.counters, log: this.log, onDisconnected, tls: modules.tls };
    this.inboundCtx = {
      self: o.id,
      clusterId: o.clusterId,
      maxFrameBytes: o.maxFrameBytes,
      keepAliveIntervalMs: o.keepAliveIntervalMs,
      idleTimeoutMs: o.idleTimeoutMs,
      counters: this.counters,
      log: this.log,
      peers: () => this.peers,
      register: (c) => this.register(c),
      unregister: (c) => this.unregister(c),
      deliver: (m) => this.deliver(m),
      onDisconnected,
      tls: modules.tls,
    };
    this.setPeers(options.peers);
  }

  /** Binds host:peerPort and starts dialling every peer. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new TransportError(TransportErrorCode.Closed, `transport ${this.opts.id} was already ${this.state === 'running' ? 'started' : 'closed'}`);
    this.state = 'running';
    const source = this.modules.tls;
    // With TLS a connection is accepted once its handshake verified a certificate of the cluster CA; its hello is checked against it.
    const server = source === undefined ? net.createServer((socket) => this.accept(socket)) : tls.createServer(source.serverOptions(), (socket) => this.accept(socket));
    if (source !== undefined) {
      const tlsServer = server as tls.Server;
      const unsubscribe = source.onChange(() => tlsServer.setSecureContext(source.serverOptions()));
      server.once('close', unsubscribe);
      // A refused handshake (foreign CA, no certificate) never becomes a connection: say so, or a misconfigured peer goes unnoticed.
      tlsServer.on('tlsClientError', (err, socket) => {
        this.log('warn', `refused a peer connection from ${socket.remoteAddress ?? '?'}: ${err.message}`, { code: TransportErrorCode.CertificateMismatch });
      });
    }
    this.server = server;
    const { host, peerPort } = this.opts;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port: peerPort }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      this.state = 'closed';
      this.server = undefined;
      throw new TransportError(TransportErrorCode.ListenFailed, `cannot listen on ${host}:${peerPort}: ${(e as Error).message}`, { cause: e });
    }
    // close() may have been called while we waited for the bind; it could not close a server that was not listening yet.
    if (this.state !== 'running') {
      server.close();
      return;
    }
    server.on('error', (e) => this.log('error', `peer listener failed: ${e.message}`, { host, peerPort: this.port }));
    this.port = (server.address() as AddressInfo).port;
    this.ticker = setInterval(() => this.tick(), this.opts.keepAliveIntervalMs);
    this.ticker.unref();
    for (const p of this.outbound.values()) p.start();
    this.log('info', `peer transport listening on ${host}:${this.port}`, { host, peerPort: this.port, peers: [...this.peers.keys()] });
  }

  /** Where we listen (the real port once started with peerPort 0). */
  address(): { host: string; peerPort: number } {
    return { host: this.opts.host, peerPort: this.port };
  }

  /**
   * Queues messages for their recipients (`m.to`); what is queued during
   * this event-loop turn leaves in one write per peer. Never throws for a
   * message: one that cannot be sent is counted in stats().rejected and logged.
   */
  send(msgs: readonly Message[]): void {
    if (this.state === 'closed') return;
    for (const m of msgs) {
      const peer = this.outbound.get(m.to);
      if (peer === undefined) {
        this.reject('debug', m, `${JSON.stringify(m.to)} is not a peer`);
        continue;
      }
      if (m.from !== this.opts.id) {
        this.reject('error', m, `its sender ${JSON.stringify(m.from)} is not this replica (${this.opts.id})`);
        continue;
      }
      let frame: Uint8Array;
      try {
        frame = encodeMessageFrame(m);
      } catch (e) {
        this.reject('error', m, (e as Error).message);
        continue;
      }
      if (frameLength(frame) > peer.frameLimitBytes) {
        this.reject('error', m, `${frameLength(frame)} bytes exceed the ${peer.frameLimitBytes} that ${m.to} accepts (maxFrameBytes)`);
        continue;
      }
      this.counters.dropped += peer.enqueue(frame);
      this.dirty.add(peer);
    }
    // setImmediate rather than a microtask: it runs after all of this turn's
    // callbacks and promise continuations, which may all add messages.
    if (this.dirty.size > 0 && this.flushHandle === undefined) this.flushHandle = setImmediate(() => this.flushAll());
  }

  /**
   * Membership change: dials new peers, redials moved ones, and drops
   * removed ones (their queue and both connections; no disconnect event).
   */
  setPeers(peers: ReadonlyMap<MemberId, PeerAddress>): void {
    const next = resolvePeers(this.opts.id, peers);
    if (this.state === 'closed') return;
    for (const [id, p] of this.outbound) {
      if (next.has(id)) continue;
      void p.stop(false);
      this.outbound.delete(id);
      this.dirty.delete(p);
      this.inbound.get(id)?.closeWith(TransportErrorCode.UnknownPeer, `${id} is no longer a member of ${this.opts.id}'s peers`);
    }
    this.peers = next;
    for (const [id, address] of next) {
      const existing = this.outbound.get(id);
      if (existing !== undefined) {
        existing.setAddress(address);
        continue;
      }
      const p = new OutboundPeer(this.outboundCtx, id, address);
      this.outbound.set(id, p);
      if (this.state === 'running') p.start();
    }
  }

  stats(): TransportStats {
    let queued = 0;
    const connected: MemberId[] = [];
    for (const p of this.outbound.values()) {
      queued += p.queue.length;
      if (p.isOpen) connected.push(p.peer);
    }
    return { ...this.counters, queued, connected: connected.sort(), inbound: [...this.inbound.keys()].sort() };
  }

  /** Writes what is queued on open connections, ends every connection and the listener. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.state = 'closed';
    clearImmediate(this.flushHandle);
    clearInterval(this.ticker);
    this.dirty.clear();
    const server = this.server;
    const waits: Promise<void>[] = [];
    if (server !== undefined) waits.push(new Promise((resolve) => server.close(() => resolve())));
    for (const p of this.outbound.values()) waits.push(p.stop(true));
    for (const c of this.accepted) waits.push(c.closeQuietly(true));
    await Promise.all(waits);
    this.log('info', 'peer transport closed', { host: this.opts.host, peerPort: this.port });
  }

  private accept(socket: Socket): void {
    if (this.state !== 'running') {
      socket.destroy();
      return;
    }
    this.accepted.add(new InboundConnection(this.inboundCtx, socket));
  }

  private register(conn: InboundConnection): void {
    const peer = conn.peer!;
    const old = this.inbound.get(peer);
    if (old !== undefined && old !== conn) {
      // The peer has one outbound connection; a second one means the first is dead (it restarted, or the path was cut and healed).
      this.log('info', `new connection from ${peer} replaces its older one`, { peer, direction: 'inbound' });
      void old.closeQuietly(false);
    }
    this.inbound.set(peer, conn);
  }

  private unregister(conn: InboundConnection): void {
    this.accepted.delete(conn);
    if (conn.peer !== undefined && this.inbound.get(conn.peer) === conn) this.inbound.delete(conn.peer);
  }

  private deliver(m: Message): void {
    try {
      this.modules.onMessage(m);
    } catch (e) {
      // The consumer's bug must not close a healthy connection or lose the following messages.
      this.log('error', `onMessage threw on a ${m.type} from ${m.from}: ${(e as Error)?.message ?? String(e)}`, { peer: m.from, error: e });
    }
  }

  private disconnected(peer: MemberId, direction: Direction): void {
    if (this.state !== 'running') return;
    try {
      this.modules.onPeerDisconnected?.(peer, direction);
    } catch (e) {
      this.log('error', `onPeerDisconnected threw for ${peer}: ${(e as Error)?.message ?? String(e)}`, { peer, error: e });
    }
  }

  private reject(level: MessageLevel, m: Message, why: string): void {
    this.counters.rejected++;
    this.log(level, `not sending ${m.type} to ${m.to}: ${why}`, { peer: m.to, type: m.type });
  }

  private flushAll(): void {
    this.flushHandle = undefined;
    for (const p of this.dirty) p.flush();
    this.dirty.clear();
  }

  private tick(): void {
    const now = performance.now();
    for (const p of this.outbound.values()) p.tick(now);
    for (const c of this.accepted) c.tick(now);
  }
}
