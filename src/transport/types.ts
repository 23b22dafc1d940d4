import type { TlsSource } from '../tls/tls-source.js';
import type { MessageLevel } from '../observability/index.js';
import type { Message, MemberId } from '../raft/index.js';

/** The transport logs through a plain function, so a test can collect what it says; fields are structured, msg is for people. */
export type LogFn = (level: MessageLevel, msg: string, fields: Readonly<Record<string, unknown>>) => void;

export interface PeerAddress {
  readonly host: string;
  readonly peerPort: number;
}

/** outbound: our dial to the peer, which carries our messages; inbound: the peer's dial to us, which carries its messages. */
export type Direction = 'inbound' | 'outbound';

export interface PeerTransportOptions {
  readonly id: MemberId;
  readonly clusterId: string;
  /** Bind address for the listener and the source address of every dial (DESIGN.md §1). */
  readonly host: string;
  /** 0 picks a free port (tests); address() tells which. */
  readonly peerPort: number;
  /** The other replicas. An entry for our own id is ignored, so the whole member list may be passed. */
  readonly peers: ReadonlyMap<MemberId, PeerAddress>;
  /** Largest frame accepted, and advertised to peers so they never send a larger one. Default 64 MiB. */
  readonly maxFrameBytes?: number;
  /** Per-peer send queue bound; the oldest messages are dropped beyond it. Default 4096. */
  readonly maxQueuedMessages?: number;
  /** Per-peer send queue bound in bytes. Default 256 MiB. */
  readonly maxQueuedBytes?: number;
  /** First reconnect delay; doubles per failed attempt. Default 50. */
  readonly reconnectMinMs?: number;
  /** Cap of the reconnect delay. Default 1000. */
  readonly reconnectMaxMs?: number;
  /** An idle connection carries a keep-alive frame this often. Default 500. */
  readonly keepAliveIntervalMs?: number;
  /** A connection (or a dial, or a handshake) that receives nothing for this long is closed. Default 2000. */
  readonly idleTimeoutMs?: number;
}

export interface PeerTransportModules {
  /** Every message received from an accepted peer, in the order that peer sent them. */
  readonly onMessage: (m: Message) => void;
  /**
   * An established connection to or from `peer` closed for another reason
   * than our own close(), setPeers() or a newer connection of the same peer.
   * Feed it to RawNode.reportConnectionClosed(peer).
   */
  readonly onPeerDisconnected?: (peer: MemberId, direction: Direction) => void;
  readonly log?: LogFn;
  /**
   * The replica's certificates: with them every peer connection is mutual
   * TLS 1.3, and a hello is accepted only from the holder of a coordinator
   * certificate naming the id it claims. Without: plain TCP.
   */
  readonly tls?: TlsSource | undefined;
}

export interface TransportStats {
  /** Messages written to sockets. */
  readonly sentMessages: number;
  /** Messages decoded and delivered to onMessage. */
  readonly receivedMessages: number;
  /** Bytes written to / read from all sockets, handshakes and keep-alives included. */
  readonly sentBytes: number;
  readonly receivedBytes: number;
  /** socket.write calls on outbound connections (one per coalesced batch). */
  readonly socketWrites: number;
  /** Messages accepted by send() and then discarded: queue overflow, peer removed. */
  readonly dropped: number;
  /** Messages send() refused: unknown recipient, wrong sender, not encodable, larger than the peer accepts. */
  readonly rejected: number;
  /** Messages waiting in send queues now. */
  readonly queued: number;
  /** Peers whose outbound connection is established (handshake accepted). */
  readonly connected: readonly MemberId[];
  /** Peers with an established inbound connection. */
  readonly inbound: readonly MemberId[];
}

/** Mutable counters shared by the connections of one transport. */
export interface Counters {
  sentMessages: number;
  receivedMessages: number;
  sentBytes: number;
  receivedBytes: number;
  socketWrites: number;
  dropped: number;
  rejected: number;
}
