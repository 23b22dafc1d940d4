/**
 * A socket that speaks frames: feeds received bytes through a FrameDecoder,
 * counts traffic, remembers when it last heard and spoke (for keep-alive and
 * idle detection), and closes with a reason the other end can log.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { TransportError, TransportErrorCode } from './errors.js';
import { FrameDecoder, FrameKind, encodeFrame, type Frame } from './framing.js';
import { encodeClose } from './handshake.js';
import type { Counters } from './types.js';

/** How long a closing socket may take to finish its goodbye before it is destroyed. */
const CLOSE_GRACE_MS = 1_000;

export interface FramedSocketHandlers {
  /** A complete frame. Throwing closes the connection (a TransportError's code is sent to the peer). */
  onFrame(frame: Frame): void;
  /** The connection is being closed because of `err` (protocol error, timeout, handler failure). */
  onFailure(err: TransportError): void;
  /** The socket closed, whatever the cause; `error` is the socket error, if any. */
  onClose(error: Error | undefined): void;
}

export class FramedSocket {
  lastReceivedAtMs = performance.now();
  lastSentAtMs = performance.now();
  private readonly decoder: FrameDecoder;
  private closing = false;
  private closed = false;
  private socketError: Error | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly closedPromise: Promise<void>;

  constructor(
    readonly socket: Socket,
    limitBytes: number,
    private readonly counters: Counters,
    private readonly handlers: FramedSocketHandlers,
  ) {
    this.decoder = new FrameDecoder(limitBytes);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => {
      this.socketError ??= e;
    });
    this.closedPromise = new Promise((resolve) => {
      socket.once('close', () => {
        this.closed = true;
        this.closing = true;
        clearTimeout(this.graceTimer);
        resolve();
        this.handlers.onClose(this.socketError);
      });
    });
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /** Bytes handed to the socket that the kernel has not taken yet. */
  get writableLength(): number {
    return this.socket.writableLength;
  }

  setFrameLimit(limitBytes: number): void {
    this.decoder.setLimit(limitBytes);
  }

  /** Writes bytes (one or more whole frames); false when the socket asks us to wait for 'drain'. */
  write(bytes: Uint8Array): boolean {
    if (this.closing) return false;
    this.counters.sentBytes += bytes.length;
    this.lastSentAtMs = performance.now();
    return this.socket.write(bytes);
  }

  /** Sends a close frame saying why, then ends the connection. */
  closeWith(code: TransportErrorCode, reason: string): void {
    if (this.closing) return;
    this.write(encodeFrame(FrameKind.Close, encodeClose({ code, reason })));
    this.end();
  }

  /**
   * Half-closes after what was written, keeps reading (and discarding) until
   * the peer closes too — unread data would turn our FIN into a reset that
   * can destroy the goodbye in flight — and destroys after a grace period.
   */
  end(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.socket.end();
      this.graceTimer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
      this.graceTimer.unref();
    }
    return this.closedPromise;
  }

  destroy(): Promise<void> {
    this.closing = true;
    this.socket.destroy();
    return this.closedPromise;
  }

  /** Closes for a reason found locally: tells the handler (which logs), then the peer. */
  fail(err: TransportError): void {
    if (this.closing) return;
    this.handlers.onFailure(err);
    this.closeWith(err.code, err.message);
  }

  whenClosed(): Promise<void> {
    return this.closed ? Promise.resolve() : this.closedPromise;
  }

  private onData(chunk: Buffer): void {
    this.counters.receivedBytes += chunk.length;
    this.lastReceivedAtMs = performance.now();
    if (this.closing) return;
    this.decoder.push(chunk);
    try {
      for (let f = this.decoder.next(); f !== undefined; f = this.closing ? undefined : this.decoder.next()) {
        this.handlers.onFrame(f);
      }
    } catch (e) {
      // Nothing a peer sends may crash the process: every failure closes this connection only.
      const err =
        e instanceof TransportError
          ? e
          : new TransportError(TransportErrorCode.BadFrame, `internal error while handling a frame: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      this.fail(err);
    }
  }
}
