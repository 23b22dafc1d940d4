/**
 * A replica's answer to the leader's "probe this node for me" (DESIGN.md §5):
 * one probe of its own, with the probe timeout of its own table. Followers
 * run no probes otherwise. The node must be in this replica's table at the
 * address the leader named, so the procedure cannot be pointed anywhere else;
 * concurrent requests for one node share a probe, and at most `maxInFlight`
 * nodes are probed at once.
 */
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';
import type { HealthMetrics, Logger } from '../../observability/index.js';
import type { NodeLink } from '../node-link.js';
import { nodeById } from '../routing/index.js';
import type { CoordinatorService } from '../service.js';
import { probeNode } from './probe.js';
import type { ConfirmAnswer, ConfirmRequest } from './replica-link.js';
import { systemClock, type Clock, type Timers } from '../../common/clock.js';

export interface ConfirmProberOptions {
  /** Nodes probed at once for confirmations at most (default 64); more is OVERLOADED. */
  readonly maxInFlight?: number;
}

export interface ConfirmProberModules {
  readonly service: CoordinatorService;
  readonly nodeLink: NodeLink;
  readonly logger: Logger;
  readonly metrics?: HealthMetrics | undefined;
  readonly clock?: Clock;
  readonly timers?: Timers;
}

const DEFAULT_MAX_IN_FLIGHT = 64;

export class ConfirmProber {
  private readonly inFlight = new Map<string, Promise<ConfirmAnswer>>();
  private readonly clock: Clock;

  constructor(
    private readonly opts: ConfirmProberOptions,
    private readonly modules: ConfirmProberModules,
  ) {
    this.clock = modules.clock ?? systemClock;
  }

  /** NOT_FOUND: the node is not in this replica's table; CONFLICT: at another address; OVERLOADED: too many at once. */
  async confirm(req: ConfirmRequest): Promise<ConfirmAnswer> {
    const { state } = await this.modules.service.read('stale');
    const node = nodeById(state, req.nodeId);
    if (node === undefined || node.status === 'left') {
      throw new ClusterError({ code: ClusterErrorCode.NotFound, resource: 'node', id: req.nodeId }, `no node ${req.nodeId} in the table of ${this.modules.service.status().id}`);
    }
    if (node.address !== req.address) {
      throw new ClusterError(
        { code: ClusterErrorCode.Conflict, reason: 'ADDRESS_MISMATCH' },
        `node ${req.nodeId} is at ${node.address} in the table of ${this.modules.service.status().id}, not at ${req.address}`,
      );
    }
    const key = `${req.nodeId}@${req.address}`;
    const running = this.inFlight.get(key);
    if (running !== undefined) return running;
    if (this.inFlight.size >= (this.opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT)) {
      throw new ClusterError({ code: ClusterErrorCode.Overloaded, retryAfterMs: state.config.settings.health.probeIntervalMs }, `too many confirmation probes in flight; ${req.nodeId} not probed`);
    }
    const timeoutMs = state.config.settings.health.probeTimeoutMs;
    const probe = probeNode(req, timeoutMs, { nodeLink: this.modules.nodeLink, metrics: this.modules.metrics, clock: this.clock, timers: this.modules.timers })
      .then((result): ConfirmAnswer => (result.ok ? { reachable: true } : { reachable: false, error: result.error }))
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, probe);
    const answer = await probe;
    this.modules.logger.debug('probed a node for the leader', { node: req.nodeId, reachable: answer.reachable, ...(answer.error === undefined ? {} : { error: answer.error }) });
    return answer;
  }
}
