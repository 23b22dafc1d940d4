/** A rolling upgrade as `/cluster/info` (`upgrade`) and `POST /cluster/upgrade` show it. */
import type { Upgrade } from '../../../coordinator/routing/index.js';

export interface UpgradeInfo {
  readonly to: string;
  readonly state: 'running' | 'done' | 'failed';
  /** Processes (data nodes, then coordinators) that run `to`, in the order they were done. */
  readonly done: readonly string[];
  /** The one being restarted now, or null. */
  readonly current: string | null;
  /** The first one that did not come back, and why; the upgrade stopped there. */
  readonly failed: { readonly id: string; readonly reason: string } | null;
  readonly nodes: readonly string[];
  readonly coordinators: readonly string[];
  readonly total: number;
  readonly reason: string;
  readonly restart_timeout_ms: number;
  readonly started_at_ms: number;
  readonly ended_at_ms: number | null;
}

export function upgradeInfo(u: Upgrade | undefined): UpgradeInfo | null {
  if (u === undefined) return null;
  return {
    to: u.to,
    state: u.state,
    done: u.done,
    current: u.current,
    failed: u.failed,
    nodes: u.nodes,
    coordinators: u.coordinators,
    total: u.nodes.length + u.coordinators.length,
    reason: u.reason,
    restart_timeout_ms: u.restartTimeoutMs,
    started_at_ms: u.startedAtMs,
    ended_at_ms: u.endedAtMs,
  };
}
