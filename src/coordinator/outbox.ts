import type { Message } from '../raft/index.js';

/** Where a replica's messages go: the peer transport (or the simulated network), seen from the replica. */
export interface Outbox {
  send(msgs: readonly Message[]): void;
  setPeers(peers: ReadonlyMap<string, { host: string; peerPort: number }>): void;
}
