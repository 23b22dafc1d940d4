/**
 * Failure detector arithmetic (DESIGN.md §5): what the leader makes of its
 * own probes of one data node. Pure: no clock, no I/O; every function takes
 * the time and the current health settings (read fresh from the replicated
 * table each round, so `PUT /cluster/config` changes them at run time) and
 * returns a new record. Nothing here is replicated: a new leader starts from
 * `newNodeHealth` for every node.
 */
import type { HealthSettings } from '../../config/index.js';
import { statusRules, type NodeRecord, type NodeStatus } from '../routing/index.js';

/** The table's statuses plus `suspect`: failed `failureThreshold` probes in a row, not (yet) confirmed. */
export type LocalStatus = NodeStatus | 'suspect';

/** `degraded`: this leader cannot reach the node, but other replicas can. */
export type ProbePath = 'ok' | 'degraded';

export interface NodeHealth {
  readonly nodeId: string;
  /** The node's status in the routing table when last looked at. */
  readonly tableStatus: NodeStatus;
  readonly status: LocalStatus;
  readonly consecutiveFailures: number;
  /** When a probe last succeeded; null: not since this replica became leader. */
  readonly lastSuccessMs: number | null;
  /** When a probe last completed (either way); null: none yet. */
  readonly lastProbeMs: number | null;
  readonly lastError: string | null;
  /** What the node's last answer said of its lease; null: no answer yet. */
  readonly leaseValid: boolean | null;
  readonly nextProbeMs: number;
  /** The wait before the next probe: the interval, doubling (capped) while the node is unhealthy and keeps failing. */
  readonly probeDelayMs: number;
  readonly path: ProbePath;
  /** When the status, path or reason last changed, and why. */
  readonly changedAtMs: number;
  readonly reason: string;
}

/** One probe's outcome: an answer from the node it was meant for, or why not. */
export type ProbeResult = { readonly ok: true; readonly leaseValid: boolean } | { readonly ok: false; readonly error: string };

/**
 * The statuses the monitor decides about. Maintenance, evacuating and
 * draining belong to the operator (their nodes are probed and shown, but not
 * declared failed: that would lose what the operator asked for).
 */
export function decidable(status: NodeStatus): boolean {
  return statusRules(status).mayBeDeclaredFailed;
}

/** A node the monitor has not probed yet: due now, shown with the table's status and reason. */
export function newNodeHealth(node: Pick<NodeRecord, 'id' | 'status' | 'statusChangedAtMs' | 'statusReason'>, nowMs: number): NodeHealth {
  return {
    nodeId: node.id,
    tableStatus: node.status,
    status: node.status,
    consecutiveFailures: 0,
    lastSuccessMs: null,
    lastProbeMs: null,
    lastError: null,
    leaseValid: null,
    nextProbeMs: nowMs,
    probeDelayMs: 0,
    path: 'ok',
    changedAtMs: node.statusChangedAtMs,
    reason: node.statusReason,
  };
}

function localStatus(tableStatus: NodeStatus, consecutiveFailures: number, failureThreshold: number): LocalStatus {
  return decidable(tableStatus) && consecutiveFailures >= failureThreshold ? 'suspect' : tableStatus;
}

/** The table moved on (a committed decision, a drain, a rejoin): its status and reason take over. */
export function withTableStatus(h: NodeHealth, node: Pick<NodeRecord, 'status' | 'statusChangedAtMs' | 'statusReason'>, settings: HealthSettings): NodeHealth {
  if (node.status === h.tableStatus) return h;
  const status = localStatus(node.status, h.consecutiveFailures, settings.failureThreshold);
  return { ...h, tableStatus: node.status, status, path: 'ok', changedAtMs: node.statusChangedAtMs, reason: node.statusReason };
}

/**
 * Whether a failing node is probed at a slower pace: one already unhealthy in
 * the table; one still unknown that has never answered this leader
 * (registered, but its machine is not running) once it is suspect; and one that keeps failing
 * twice the threshold without being decided (held back by the storm guard,
 * or by no majority). Full rate is kept for what the detection bound needs: a
 * node that answered, up to its first few failures.
 */
function backsOff(h: NodeHealth, failures: number, settings: HealthSettings): boolean {
  if (h.tableStatus === 'unhealthy') return true;
  if (h.tableStatus === 'unknown' && h.lastSuccessMs === null && failures >= settings.failureThreshold) return true;
  return failures >= 2 * settings.failureThreshold;
}

/** The next wait after a failure: doubling from the interval for a node that backs off (see backsOff), capped at backoffMaxMs. */
export function nextProbeDelayMs(h: NodeHealth, settings: HealthSettings, failures = h.consecutiveFailures): number {
  if (!backsOff(h, failures, settings)) return settings.probeIntervalMs;
  const doubled = Math.max(settings.probeIntervalMs, h.probeDelayMs * 2);
  return Math.min(settings.backoffMaxMs, doubled);
}

export function afterProbe(h: NodeHealth, result: ProbeResult, settings: HealthSettings, nowMs: number): NodeHealth {
  if (result.ok) {
    const recovered = h.status === 'suspect';
    const wasFailing = h.consecutiveFailures;
    return {
      ...h,
      status: h.tableStatus,
      consecutiveFailures: 0,
      lastSuccessMs: nowMs,
      lastProbeMs: nowMs,
      lastError: null,
      leaseValid: result.leaseValid,
      probeDelayMs: settings.probeIntervalMs,
      nextProbeMs: nowMs + settings.probeIntervalMs,
      path: 'ok',
      ...(recovered ? { changedAtMs: nowMs, reason: `probe answered again after ${wasFailing} failures` } : {}),
    };
  }
  const failures = h.consecutiveFailures + 1;
  const status = localStatus(h.tableStatus, failures, settings.failureThreshold);
  const probeDelayMs = nextProbeDelayMs(h, settings, failures);
  const suspected = status === 'suspect' && h.status !== 'suspect';
  return {
    ...h,
    status,
    consecutiveFailures: failures,
    lastProbeMs: nowMs,
    lastError: result.error,
    probeDelayMs,
    nextProbeMs: nowMs + probeDelayMs,
    ...(suspected ? { changedAtMs: nowMs, reason: suspicionReason(failures, result.error) } : {}),
  };
}

export function suspicionReason(failures: number, lastError: string): string {
  return `${failures} consecutive probes failed (last: ${lastError})`;
}

/** A new explanation (and path) for an unchanged status; the record is returned as is when nothing changed. */
export function explained(h: NodeHealth, reason: string, path: ProbePath, nowMs: number): NodeHealth {
  if (h.reason === reason && h.path === path) return h;
  return { ...h, reason, path, changedAtMs: nowMs };
}

/** Whether the node is failing as this leader sees it: suspect, or unhealthy in the table. */
export function failing(h: NodeHealth): boolean {
  return h.status === 'suspect' || h.tableStatus === 'unhealthy';
}
