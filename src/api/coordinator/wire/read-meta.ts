/** What every read answer says about its own freshness (a stale read says how old it may be). */
import type { Consistency, StateRead } from '../../../coordinator/service.js';

export interface ReadMeta {
  readonly consistency: Consistency;
  /** The Raft index of the table this answer was read from. */
  readonly applied_index: number;
  /** 0 for linearizable reads; for stale ones, how long since this replica last heard from a leader. */
  readonly staleness_ms: number;
}

export function readMeta(read: StateRead): ReadMeta {
  return { consistency: read.consistency, applied_index: read.appliedIndex, staleness_ms: read.stalenessMs };
}
