/**
 * `PUT /cluster/config?wait=true`: waits until every serving node runs the
 * new settings version (it reports it with its lease renewals, which the
 * leader records in the table), or answers 504 naming the ones missing.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { configAcks, type RoutingState } from '../../coordinator/routing/index.js';
import type { CoordinatorService } from '../../coordinator/service.js';
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';

/** How often this replica looks at its table while waiting: a renewal period at the default lease. */
const POLL_MS = 100;

export const DEFAULT_ACK_TIMEOUT_MS = 15_000;
/** The longest a caller may ask to wait. */
export const MAX_ACK_TIMEOUT_MS = 120_000;

/** Resolves with the table in which every serving node runs `version` (or a later one), or throws TIMEOUT naming the rest. */
export async function awaitConfigAcks(service: CoordinatorService, version: number, timeoutMs: number): Promise<RoutingState> {
  const deadlineMs = Date.now() + timeoutMs;
  for (;;) {
    const { state } = await service.read('stale');
    const missing = behind(state, version);
    if (missing.length === 0) return state;
    const leftMs = deadlineMs - Date.now();
    if (leftMs <= 0) {
      const list = missing.map((id) => `${id} (runs ${state.nodes[id]?.configVersion ?? 'none yet'})`).join(', ');
      throw new ClusterError(
        { code: ClusterErrorCode.Timeout, operation: `waiting for settings version ${version} on every serving node`, timeoutMs },
        `settings version ${version} is committed, but not every serving node runs it after ${timeoutMs} ms: missing ${list}`,
      );
    }
    await delay(Math.min(POLL_MS, leftMs));
  }
}

/** Serving nodes that run an older version than `version` (a later change may already be committed). */
function behind(state: RoutingState, version: number): string[] {
  return configAcks(state).missing.filter((id) => (state.nodes[id]?.configVersion ?? 0) < version);
}
