/**
 * What the leader does for the data nodes besides keeping the routing table:
 * it grants their leases, probes them (the health monitor), runs the
 * placement driver, and takes a node out of its shards on request. All of it is leader-local: it starts when this
 * replica becomes leader and is dropped when it stops leading (a new leader
 * starts from nothing and waits one lease before it demotes anyone).
 */
import { ClusterError, ClusterErrorCode } from '../errors/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import { ConfirmProber, HealthMonitor, type ConfirmAnswer, type ConfirmRequest, type HealthMonitorOptions, type NodeHealthView, type ReplicaLink } from './health/index.js';
import { LeaseKeeper, requestsPerS, type Load, type LeaseRenewal, type Renewed, type ShardRecovery } from './leases/index.js';
import type { NodeLink } from './node-link.js';
import { notLeaderError } from './not-leader.js';
import {
  ForcedRemoval,
  newFencer,
  PlacementDriver,
  type FencerOptions,
  type FencingFactory,
  type ForcedRemovalOptions,
  type MeasuredLoad,
  type PlacementDriverOptions,
  type PlanFunction,
  type RebalanceReport,
  type RemovalPlanFunction,
} from './placement-driver/index.js';
import type { RoutingState } from './routing/index.js';
import type { CoordinatorService, RoleChange } from './service.js';
import type { Clock, Timers } from '../common/clock.js';

export interface NodeControlOptions {
  /** false: no placement driver (an API server in a test, a replica that only serves). */
  readonly placement: boolean;
  readonly driver?: PlacementDriverOptions;
  readonly fencing?: FencerOptions;
  readonly removal?: ForcedRemovalOptions;
  /** Present: the health monitor probes the data nodes while this replica leads (DESIGN.md §5). */
  readonly health?: HealthMonitorOptions;
}

export interface NodeControlModules {
  readonly service: CoordinatorService;
  readonly nodeLink: NodeLink;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly timers?: Timers;
  readonly plan?: PlanFunction;
  readonly planRemoval?: RemovalPlanFunction;
  /** Builds the fencing rule every demotion waits for (default newFencer, the production rule). */
  readonly fencing?: FencingFactory;
  /** How the health monitor asks the other replicas to confirm a failure (absent: it cannot). */
  readonly replicaLink?: ReplicaLink;
  readonly metrics?: Metrics;
}

export class NodeControl {
  private readonly leases: LeaseKeeper;
  private readonly driver: PlacementDriver | undefined;
  private readonly removal: ForcedRemoval;
  private readonly monitor: HealthMonitor | undefined;
  private readonly confirmer: ConfirmProber;
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(
    opts: NodeControlOptions,
    private readonly modules: NodeControlModules,
  ) {
    const { service, clock } = modules;
    const logger = modules.logger.child({ component: 'placement' });
    const withClock = { ...(clock === undefined ? {} : { clock }), ...(modules.timers === undefined ? {} : { timers: modules.timers }) };
    this.leases = new LeaseKeeper({}, { service, ...withClock });
    const fencer = (modules.fencing ?? newFencer)(opts.fencing ?? {}, { leases: this.leases, nodeLink: modules.nodeLink, logger, ...withClock });
    this.driver = opts.placement
      ? new PlacementDriver(opts.driver ?? {}, {
          service,
          fencer,
          logger,
          ...withClock,
          loads: (state) => this.measuredLoad(state),
          ...(modules.plan === undefined ? {} : { plan: modules.plan }),
        })
      : undefined;
    this.removal = new ForcedRemoval(opts.removal ?? {}, {
      service,
      fencer,
      logger,
      ...withClock,
      ...(modules.planRemoval === undefined ? {} : { planRemoval: modules.planRemoval }),
    });
    const healthLogger = modules.logger.child({ component: 'health' });
    const healthModules = { service, nodeLink: modules.nodeLink, logger: healthLogger, metrics: modules.metrics?.health, ...withClock };
    this.monitor =
      opts.health === undefined ? undefined : new HealthMonitor(opts.health, { ...healthModules, leases: this.leases, replicaLink: modules.replicaLink });
    this.confirmer = new ConfirmProber({}, healthModules);
    this.unsubscribe = service.onRoleChange((c) => this.roleChanged(c));
    const s = service.status();
    this.roleChanged({ role: s.role, term: s.term, leader: s.leader });
  }

  private roleChanged(change: RoleChange): void {
    if (this.closed) return;
    this.leases.roleChanged(change);
    if (change.role === 'leader') this.driver?.start();
    else void this.driver?.stop();
    if (change.role === 'leader') this.monitor?.start();
    else void this.monitor?.stop();
  }

  /** The health monitor's view of a node (status incl. suspect, probes, path); null on followers and without a monitor. */
  healthOf(nodeId: string): NodeHealthView | null {
    return this.monitor?.view(nodeId) ?? null;
  }

  /** Why the monitor holds failure decisions back (storm guard first), for `/cluster/info`; empty on followers. */
  healthReasons(): string[] {
    return this.monitor?.reasons() ?? [];
  }

  /** This replica probes a node for the leader (`health.confirm`); see ConfirmProber.confirm. */
  confirmProbe(req: ConfirmRequest): Promise<ConfirmAnswer> {
    return this.confirmer.confirm(req);
  }

  /** See LeaseKeeper.renew: NOT_LEADER on a follower, NOT_FOUND / CONFLICT for a node that may not renew. */
  renewLease(req: LeaseRenewal): Promise<Renewed> {
    return this.leases.renew(req);
  }

  /** See LeaseKeeper.renewMany: renewals a follower relayed together, one leadership check, an answer each. */
  renewLeases(reqs: readonly LeaseRenewal[]): Promise<(Renewed | Error)[]> {
    return this.leases.renewMany(reqs);
  }

  /** A node's load summed over the shards it reported with its last renewal; null on followers or without a fresh report. */
  nodeLoad(state: RoutingState, nodeId: string): Load | null {
    const { board, nowMs, maxAgeMs } = this.leases.loadBoard(state);
    return board.nodeLoad(nodeId, nowMs, maxAgeMs);
  }

  /** Requests per second per node (fresh reports only) and per shard, for the placement driver's load rule. */
  private measuredLoad(state: RoutingState): MeasuredLoad {
    const { board, nowMs, maxAgeMs } = this.leases.loadBoard(state);
    const nodes = new Map<string, number>();
    for (const [id, shards] of board.current(nowMs, maxAgeMs)) nodes.set(id, shards.reduce((sum, s) => sum + requestsPerS(s), 0));
    const shards = new Map([...board.shardLoads(nowMs, maxAgeMs)].map(([id, l]) => [id, requestsPerS(l)] as const));
    return { nodes, shards };
  }

  /** Each shard's load summed over the nodes reporting it; empty on followers. */
  shardLoads(state: RoutingState): Map<number, Load> {
    const { board, nowMs, maxAgeMs } = this.leases.loadBoard(state);
    return board.shardLoads(nowMs, maxAgeMs);
  }

  /** A recovering copy's progress, as its node reported it to this leader; null on followers. */
  recoveryOf(state: RoutingState, shardId: number): ShardRecovery | null {
    return this.leases.recoveryOf(state, shardId);
  }

  /** Throws NOT_LEADER (or NO_LEADER) unless this replica leads; `what` names the operation in the message. */
  requireLeader(what: string): void {
    const s = this.modules.service.status();
    if (s.role !== 'leader') throw notLeaderError(s, what, s.leader ? this.modules.service.apiAddressOf(s.leader) : undefined);
  }

  /**
   * See PlacementDriver.requestRebalance (leader only). UNAVAILABLE on a
   * replica that runs no placement driver (an API server in a test).
   */
  async requestRebalance(reason: string, by?: string): Promise<RebalanceReport> {
    this.requireLeader('rebalancing');
    if (this.driver === undefined) {
      throw new ClusterError({ code: ClusterErrorCode.Unavailable, reason: 'no placement driver' }, `replica ${this.modules.service.status().id} runs no placement driver, so it cannot rebalance`);
    }
    return this.driver.requestRebalance(reason, undefined, by);
  }

  /** See ForcedRemoval.takeOut (leader only). */
  async takeOut(nodeId: string): Promise<void> {
    this.requireLeader('node removals');
    await this.removal.takeOut(nodeId);
  }

  /** Stops the driver and the health monitor and stops listening to the replica. */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    await Promise.all([this.driver?.stop(), this.monitor?.stop()]);
  }
}
