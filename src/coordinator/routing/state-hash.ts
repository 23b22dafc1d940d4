/**
 * The state digest every replica reports (`/health`, `/cluster/members`,
 * `torua status`): SHA-256 of the canonical JSON of the whole state, in hex.
 *
 * node:crypto rather than a hand-written hash: it is a pure computation (no
 * I/O, deterministic), native and fast on a table of thousands of shards, and
 * SHA-256 makes an accidental collision between two diverged replicas a
 * non-issue, which a 32- or 64-bit FNV would not quite be. Canonical JSON
 * sorts object keys, so equal states hash equally whatever order nodes were
 * inserted or a snapshot was parsed in.
 */
import { createHash } from 'node:crypto';
import { canonicalJsonShared } from './canonical-json.js';
import type { RoutingState } from './types.js';

// States are immutable, so a state object's hash never changes: computing it
// once per state is safe, and the API asks for it on every /health. The text
// of the parts a state shares with the one before is not made again.
const cache = new WeakMap<RoutingState, string>();

export function stateHash(state: RoutingState): string {
  let hash = cache.get(state);
  if (hash === undefined) {
    hash = createHash('sha256').update(canonicalJsonShared(state), 'utf8').digest('hex');
    cache.set(state, hash);
  }
  return hash;
}
