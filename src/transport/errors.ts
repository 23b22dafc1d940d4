/**
 * Why the transport refused bytes, a peer or a message. Each code names one
 * condition an operator can act on; the same strings travel in the close
 * frame, so both ends of a refused connection log the same reason.
 */
export enum TransportErrorCode {
  /** Received bytes are not a valid frame or message (truncated, out of range, trailing bytes). */
  BadFrame = 'BAD_FRAME',
  /** The first frame of a connection is not a Torua handshake (wrong magic, not a peer at all). */
  BadHandshake = 'BAD_HANDSHAKE',
  /** The peer speaks a protocol version this build does not. */
  UnsupportedVersion = 'UNSUPPORTED_VERSION',
  /** The peer belongs to another cluster (its clusterId differs from ours). */
  ClusterMismatch = 'CLUSTER_MISMATCH',
  /** With TLS: the peer's certificate does not name the replica its hello claims to be. */
  CertificateMismatch = 'CERTIFICATE_MISMATCH',
  /** The sender id is not in our peer list (or is our own id). */
  UnknownPeer = 'UNKNOWN_PEER',
  /** A handshake or message names a recipient or sender other than the ends of this connection. */
  Misaddressed = 'MISADDRESSED',
  /** A frame is larger than the receiver's maxFrameBytes. */
  FrameTooLarge = 'FRAME_TOO_LARGE',
  /** A message handed to send() cannot be encoded (unsafe number, id too long, too many entries …). */
  InvalidMessage = 'INVALID_MESSAGE',
  /** Nothing arrived on a connection for idleTimeoutMs (dead peer, cut link, stuck handshake). */
  PeerTimeout = 'PEER_TIMEOUT',
  /** The peer port could not be bound. */
  ListenFailed = 'LISTEN_FAILED',
  /** The transport's options are out of range (ids too long, ports, limits). */
  InvalidOptions = 'INVALID_OPTIONS',
  /** start() on a transport that was started or closed already. */
  Closed = 'CLOSED',
}

export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
