/**
 * Feeds the metrics that no single code path owns, at every scrape, from
 * this replica's routing table: counters from the events applied since the
 * last scrape (shard moves by kind, recoveries), gauges recounted (nodes by
 * status, shards per node and role, recoveries under way, under-replicated
 * shards, the table's cluster state), and the peer transport's byte and message counts. Every
 * replica feeds its own: the table is replicated, so followers show the same
 * counts, labelled with their own replica id. Nothing runs between scrapes
 * (no event listener): events the ring dropped before a scrape saw them are
 * not counted, which only a scrape interval of more than a thousand changes
 * can cause.
 */
import type { Counter, Metrics } from '../../observability/index.js';
import type { TransportStats } from '../../transport/index.js';
import { canServe, clusterHealth, eventsSince, nodeById, nodeShardCounts, nodesInOrder, NODE_STATUSES, type RoutingState } from '../routing/index.js';
import type { CoordinatorService } from '../service.js';
import { recoveryOutcome, shardMoveKind } from './move-kinds.js';

export interface MetricsFeedModules {
  readonly service: Pick<CoordinatorService, 'read'>;
  readonly metrics: Metrics;
  /** The peer transport's counters; absent: no transport metrics (an API server in a test). */
  readonly transportStats?: () => TransportStats;
}

/** The transport counts totals over all peers, not per peer: its series carry this `peer` label. */
export const ALL_PEERS = 'all';

const HEALTH_COLORS = ['green', 'yellow', 'red'] as const;

export class MetricsFeed {
  /** The transport totals already added to the counters (they only go up, so each scrape adds the difference). */
  private readonly counted = new Map<string, number>();
  /** The last event seq counted. */
  private countedSeq = 0;

  constructor(
    _opts: object,
    private readonly modules: MetricsFeedModules,
  ) {}

  /** Counts and recounts; call before every scrape. */
  async refresh(): Promise<void> {
    const { state } = await this.modules.service.read('stale');
    this.eventCounters(state);
    this.tableGauges(state);
    const stats = this.modules.transportStats?.();
    if (stats !== undefined) this.transportCounters(stats);
  }

  private eventCounters(state: RoutingState): void {
    const { health } = this.modules.metrics;
    for (const e of eventsSince(state, this.countedSeq)) {
      const kind = shardMoveKind(e);
      if (kind !== undefined) health.shardMoves.inc({ kind });
      const recovery = recoveryOutcome(e);
      if (recovery !== undefined) health.recoveries.inc({ outcome: recovery });
    }
    this.countedSeq = Math.max(this.countedSeq, state.events.nextSeq - 1);
  }

  private tableGauges(state: RoutingState): void {
    const { health } = this.modules.metrics;
    // Every status gets a series, 0 included: a status no node has any more must read 0, not its last value.
    health.nodes.reset();
    const nodes = nodesInOrder(state);
    for (const status of NODE_STATUSES) health.nodes.set({ status }, nodes.filter((n) => n.status === status).length);
    health.shards.reset();
    for (const [node, load] of Object.entries(nodeShardCounts(state))) {
      health.shards.set({ node, role: 'primary' }, load.primaries);
      health.shards.set({ node, role: 'replica' }, load.replicas);
    }
    health.recoveriesActive.set(state.shards.reduce((n, s) => n + s.replicas.filter((r) => !s.inSync.includes(r)).length, 0));
    const factor = state.config.settings.replicationFactor;
    const serving = (id: string): boolean => {
      const node = nodeById(state, id);
      return node !== undefined && canServe(node.status);
    };
    health.underReplicatedShards.set(state.shards.filter((s) => s.inSync.filter(serving).length < factor).length);
    const color = clusterHealth(state).status;
    for (const c of HEALTH_COLORS) health.clusterState.set({ state: c }, c === color ? 1 : 0);
  }

  private transportCounters(stats: TransportStats): void {
    const t = this.modules.metrics.transport;
    this.addTotal('sentBytes', t.sentBytes, stats.sentBytes);
    this.addTotal('receivedBytes', t.receivedBytes, stats.receivedBytes);
    this.addTotal('sentMessages', t.sentMessages, stats.sentMessages);
    this.addTotal('receivedMessages', t.receivedMessages, stats.receivedMessages);
    this.addTotal('droppedMessages', t.droppedMessages, stats.dropped);
    t.connected.reset();
    for (const peer of stats.connected) t.connected.set({ peer }, 1);
  }

  private addTotal(name: string, counter: Counter<'peer'>, total: number): void {
    const delta = total - (this.counted.get(name) ?? 0);
    if (delta > 0) counter.inc({ peer: ALL_PEERS }, delta);
    this.counted.set(name, total);
  }
}
