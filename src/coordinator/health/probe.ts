/**
 * One probe of a data node: its own `GET /health`, within the probe timeout,
 * answered by the node the table names (a process at the address that calls
 * itself by another id is a failure: the node we mean is not there).
 * Used by the leader's monitor and by a replica asked to confirm.
 */
import type { HealthMetrics } from '../../observability/index.js';
import type { NodeLink } from '../node-link.js';
import { withDeadline } from './deadline.js';
import type { ProbeResult } from './detector.js';
import type { Clock, Timers } from '../../common/clock.js';

export interface ProbeTarget {
  readonly nodeId: string;
  readonly address: string;
}

export interface ProbeModules {
  readonly nodeLink: NodeLink;
  readonly metrics?: HealthMetrics | undefined;
  readonly clock: Clock;
  readonly timers?: Timers | undefined;
}

/** Never rejects: a failure is a result. */
export async function probeNode(target: ProbeTarget, timeoutMs: number, modules: ProbeModules): Promise<ProbeResult> {
  const startedMs = modules.clock.nowMs();
  let result: ProbeResult;
  try {
    const answer = await withDeadline(modules.nodeLink.probe(target.address, timeoutMs), timeoutMs, `probe of ${target.nodeId}`, modules.timers);
    result = answer.id === target.nodeId ? { ok: true, leaseValid: answer.lease.valid } : { ok: false, error: `the process at ${target.address} is ${answer.id}, not ${target.nodeId}` };
  } catch (e) {
    result = { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  modules.metrics?.probeSeconds.observe({ result: result.ok ? 'ok' : 'failed' }, Math.max(0, modules.clock.nowMs() - startedMs) / 1000);
  return result;
}
