/**
 * A node's record after a status change, with what the status carries kept
 * consistent by construction: a maintenance window exactly while in
 * `maintenance`, a restart window exactly while `restarting`, a running
 * evacuation exactly while `evacuating` (ended as
 * cancelled when the node leaves that status any other way).
 */
import { shardIdsOnNode } from './lookup.js';
import type { Evacuation, MaintenanceWindow, NodeRecord, NodeStatus, RestartWindow, RoutingState } from './types.js';

export interface Transition {
  readonly status: NodeStatus;
  readonly atMs: number;
  readonly reason: string;
  /** The window to open (or renew) when the status is `maintenance`; by default one without an end. */
  readonly window?: MaintenanceWindow;
  /** The restart window, required when the status is `restarting`. */
  readonly restart?: RestartWindow;
}

export function withStatus(state: RoutingState, old: NodeRecord, t: Transition): NodeRecord {
  const { maintenance: _window, restart: _restart, evacuation: oldEvacuation, ...rest } = old;
  const node: NodeRecord = { ...rest, status: t.status, statusChangedAtMs: old.status === t.status ? old.statusChangedAtMs : t.atMs, statusReason: t.reason };
  const window = t.status === 'maintenance' ? (t.window ?? old.maintenance ?? { reason: t.reason, sinceMs: t.atMs, untilMs: null }) : undefined;
  const restart = t.status === 'restarting' ? (t.restart ?? old.restart) : undefined;
  if (t.status === 'restarting' && restart === undefined) throw new Error(`${old.id}: restarting needs a restart window`);
  const evacuation = evacuationAfter(state, old, oldEvacuation, t);
  return {
    ...node,
    ...(window === undefined ? {} : { maintenance: window }),
    ...(restart === undefined ? {} : { restart }),
    ...(evacuation === undefined ? {} : { evacuation }),
  };
}

function evacuationAfter(state: RoutingState, old: NodeRecord, evacuation: Evacuation | undefined, t: Transition): Evacuation | undefined {
  if (t.status === 'evacuating') {
    if (old.status === 'evacuating' && evacuation !== undefined) return evacuation;
    return { reason: t.reason, startedAtMs: t.atMs, total: shardIdsOnNode(state, old.id).length, state: 'running', endedAtMs: null, stalledReason: null, bytesCopied: 0 };
  }
  if (evacuation?.state === 'running') return { ...evacuation, state: 'cancelled', endedAtMs: t.atMs, stalledReason: null };
  return evacuation;
}
