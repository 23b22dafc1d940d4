/** Defaults and validation of PeerTransportOptions (kept apart so the transport reads as behaviour). */
import type { MemberId } from '../raft/index.js';
import { utf8Length } from '../common/bytes.js';
import { TransportError, TransportErrorCode } from './errors.js';
import { DEFAULT_MAX_FRAME_BYTES, MAX_CLUSTER_ID_BYTES, MAX_ID_BYTES, MAX_U32, MIN_MAX_FRAME_BYTES } from './limits.js';
import type { PeerAddress, PeerTransportOptions } from './types.js';

export interface ResolvedOptions {
  readonly id: MemberId;
  readonly clusterId: string;
  readonly host: string;
  readonly peerPort: number;
  readonly maxFrameBytes: number;
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly keepAliveIntervalMs: number;
  readonly idleTimeoutMs: number;
}

export const DEFAULTS = {
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxQueuedMessages: 4096,
  maxQueuedBytes: 256 * 1024 * 1024,
  reconnectMinMs: 50,
  reconnectMaxMs: 1000,
  keepAliveIntervalMs: 500,
  idleTimeoutMs: 2000,
} as const;

const bad = (msg: string) => new TransportError(TransportErrorCode.InvalidOptions, msg);

function int(name: string, v: number, min: number, max: number): number {
  if (!Number.isSafeInteger(v) || v < min || v > max) throw bad(`${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  return v;
}

function text(name: string, v: string, maxBytes: number): string {
  const n = typeof v === 'string' ? utf8Length(v) : -1;
  if (n < 1 || n > maxBytes) throw bad(`${name} must be a non-empty string of at most ${maxBytes} UTF-8 bytes, got ${JSON.stringify(v)}`);
  return v;
}

export function resolveOptions(o: PeerTransportOptions): ResolvedOptions {
  const reconnectMinMs = int('reconnectMinMs', o.reconnectMinMs ?? DEFAULTS.reconnectMinMs, 1, 60_000);
  const keepAliveIntervalMs = int('keepAliveIntervalMs', o.keepAliveIntervalMs ?? DEFAULTS.keepAliveIntervalMs, 1, 60_000);
  return {
    id: text('id', o.id, MAX_ID_BYTES),
    clusterId: text('clusterId', o.clusterId, MAX_CLUSTER_ID_BYTES),
    host: text('host', o.host, 255),
    peerPort: int('peerPort', o.peerPort, 0, 65_535),
    maxFrameBytes: int('maxFrameBytes', o.maxFrameBytes ?? DEFAULTS.maxFrameBytes, MIN_MAX_FRAME_BYTES, MAX_U32),
    maxQueuedMessages: int('maxQueuedMessages', o.maxQueuedMessages ?? DEFAULTS.maxQueuedMessages, 1, 10_000_000),
    maxQueuedBytes: int('maxQueuedBytes', o.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes, 1, Number.MAX_SAFE_INTEGER),
    reconnectMinMs,
    reconnectMaxMs: int('reconnectMaxMs', o.reconnectMaxMs ?? Math.max(DEFAULTS.reconnectMaxMs, reconnectMinMs), reconnectMinMs, 600_000),
    keepAliveIntervalMs,
    // At least 3 keep-alive intervals, so an idle but healthy link never looks dead between two ticks.
    idleTimeoutMs: int('idleTimeoutMs', o.idleTimeoutMs ?? Math.max(DEFAULTS.idleTimeoutMs, 3 * keepAliveIntervalMs), 3 * keepAliveIntervalMs, 3_600_000),
  };
}

/** The peers without our own id (the member list may include it), each checked. */
export function resolvePeers(self: MemberId, peers: ReadonlyMap<MemberId, PeerAddress>): Map<MemberId, PeerAddress> {
  const out = new Map<MemberId, PeerAddress>();
  for (const [id, a] of peers) {
    text('peer id', id, MAX_ID_BYTES);
    if (id === self) continue;
    text(`host of peer ${id}`, a.host, 255);
    int(`peerPort of peer ${id}`, a.peerPort, 1, 65_535);
    out.set(id, { host: a.host, peerPort: a.peerPort });
  }
  return out;
}
