/** What a command handler returns to `apply`: a rejection, or the next state with its result and events. */
import type { EventDraft } from './events.js';
import type { Applied, RejectCode, Rejection, RoutingState } from './types.js';

export interface Change {
  readonly ok: true;
  readonly state: RoutingState;
  readonly result: Applied;
  /** Empty exactly when nothing changed (`result.changed` false, `state` the input). */
  readonly events: readonly EventDraft[];
}

export type Outcome = Change | Rejection;

export function reject(code: RejectCode, message: string, field?: string): Rejection {
  return field === undefined ? { ok: false, code, message } : { ok: false, code, message, field };
}

/** A valid command that finds the state already as it asks. */
export function unchanged(state: RoutingState, result: Applied): Change {
  return { ok: true, state, result: { ...result, changed: false }, events: [] };
}
