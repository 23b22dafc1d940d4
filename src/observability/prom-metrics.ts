import * as prom from 'prom-client';
import type { Counter, Gauge, Histogram } from './metric-types.js';
import type { HealthMetrics, HttpMetrics, Metrics, RaftMetrics, TlsMetrics, TransportMetrics } from './metrics.js';

export type MetricsRegistry = prom.Registry;

export interface CreateMetricsOptions {
  /** Defaults to a fresh registry: two Metrics in one process (tests, a local cluster in-process) never collide. */
  registry?: MetricsRegistry;
  /** Labels on every series, e.g. `{process: 'c1'}`. */
  defaultLabels?: Readonly<Record<string, string>>;
  /** Node's default process metrics (heap, RSS, event loop lag, GC); on by default. Off when the registry already has them. */
  processMetrics?: boolean;
}

/** Buckets in seconds. Probes time out at 200 ms by default, so the fine resolution is below that. */
const PROBE_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2];
/** fsync on an SSD is 0.1–5 ms; a stuck disk shows up in the last buckets. */
/** Around the heartbeat (50 ms by default) up to past the election timeout (300–600 ms). */
const CONTACT_GAP_BUCKETS_SECONDS = [0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1];
const PERSIST_BUCKETS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** Requests: sub-millisecond local reads up to forwarded writes that wait for a commit. */
const REQUEST_BUCKETS_SECONDS = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The one place that creates prom-client metrics. prom-client's methods take
 * the same positional arguments as the typed interfaces (labels first when
 * there are any), so its objects serve as they are.
 */
function factory(registers: prom.Registry[]) {
  return {
    counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
      return new prom.Counter({ name, help, labelNames, registers }) as unknown as Counter<L>;
    },
    gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
      return new prom.Gauge({ name, help, labelNames, registers }) as unknown as Gauge<L>;
    },
    histogram<L extends string = never>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []): Histogram<L> {
      return new prom.Histogram({ name, help, buckets, labelNames, registers }) as unknown as Histogram<L>;
    },
  };
}

type Factory = ReturnType<typeof factory>;

function raftMetrics(f: Factory): RaftMetrics {
  return {
    term: f.gauge('torua_raft_term', 'Current Raft term of this replica'),
    commitIndex: f.gauge('torua_raft_commit_index', 'Highest log index known committed'),
    appliedIndex: f.gauge('torua_raft_applied_index', 'Highest log index applied to the routing table'),
    isLeader: f.gauge('torua_raft_is_leader', '1 if this replica is the leader'),
    leaderChanges: f.counter('torua_raft_leader_changes_total', 'Leader changes seen by this replica'),
    persistSeconds: f.histogram('torua_raft_persist_duration_seconds', 'Synced write of one Ready batch', PERSIST_BUCKETS_SECONDS),
    leaderContactGapSeconds: f.histogram('torua_raft_leader_contact_gap_seconds', 'Follower: time between two messages from the leader', CONTACT_GAP_BUCKETS_SECONDS),
    leaderContactGapMaxSeconds: f.gauge('torua_raft_leader_contact_gap_max_seconds', 'Follower: longest time without a message from the leader since the leader last changed'),
  };
}

function healthMetrics(f: Factory): HealthMetrics {
  return {
    nodes: f.gauge('torua_nodes', 'Data nodes by status', ['status']),
    shards: f.gauge('torua_node_shards', 'Shards held per node and role', ['node', 'role']),
    probeSeconds: f.histogram('torua_probe_duration_seconds', 'Health probe round trip', PROBE_BUCKETS_SECONDS, ['result']),
    suspicions: f.counter('torua_suspicions_total', 'Nodes that passed the failure threshold on this replica', ['node']),
    confirmations: f.counter('torua_confirmations_total', 'Answers to confirmation probes (failed confirms, ok refutes)', ['result']),
    failureDecisions: f.counter('torua_failure_decisions_total', 'Failure decisions by outcome', ['outcome']),
    shardMoves: f.counter('torua_shard_moves_total', 'Committed shard moves by kind', ['kind']),
    recoveries: f.counter('torua_recoveries_total', 'Replica recoveries by outcome', ['outcome']),
    recoveriesActive: f.gauge('torua_recoveries_active', 'Replica recoveries under way'),
    clusterState: f.gauge('torua_cluster_state', '1 for the current cluster state (green, yellow, red)', ['state']),
    underReplicatedShards: f.gauge('torua_shards_under_replicated', 'Shards with fewer in-sync copies on serving nodes than replicationFactor'),
  };
}

function httpMetrics(f: Factory): HttpMetrics {
  return {
    requestSeconds: f.histogram('torua_http_request_duration_seconds', 'HTTP request latency by route', REQUEST_BUCKETS_SECONDS, [
      'route',
      'method',
      'status',
    ]),
    errors: f.counter('torua_http_errors_total', 'Error answers by public error code', ['code']),
    receivedBytes: f.counter('torua_http_received_bytes_total', 'Request body bytes by route', ['route']),
    sentBytes: f.counter('torua_http_sent_bytes_total', 'Response body bytes by route', ['route']),
  };
}

function transportMetrics(f: Factory): TransportMetrics {
  return {
    sentBytes: f.counter('torua_peer_sent_bytes_total', 'Bytes sent to a peer replica', ['peer']),
    receivedBytes: f.counter('torua_peer_received_bytes_total', 'Bytes received from a peer replica', ['peer']),
    sentMessages: f.counter('torua_peer_sent_messages_total', 'Raft messages sent to a peer', ['peer']),
    receivedMessages: f.counter('torua_peer_received_messages_total', 'Raft messages received from a peer', ['peer']),
    droppedMessages: f.counter('torua_peer_dropped_messages_total', 'Messages dropped on a full send queue', ['peer']),
    connected: f.gauge('torua_peer_connected', '1 while connected to the peer', ['peer']),
    reconnects: f.counter('torua_peer_reconnects_total', 'Reconnections to a peer', ['peer']),
  };
}

function tlsMetrics(f: Factory): TlsMetrics {
  return {
    certificateExpiry: f.gauge('torua_tls_certificate_expiry_timestamp_seconds', 'When the process certificate (own) or the cluster CA (ca) expires, Unix seconds', ['certificate']),
    reloads: f.counter('torua_tls_reloads_total', 'Certificate reloads on SIGHUP by result', ['result']),
  };
}

/** Prometheus metrics of one process. */
export function createMetrics(options: CreateMetricsOptions = {}): Metrics {
  const registry = options.registry ?? new prom.Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.processMetrics ?? true) prom.collectDefaultMetrics({ register: registry });
  const f = factory([registry]);
  return {
    raft: raftMetrics(f),
    health: healthMetrics(f),
    http: httpMetrics(f),
    transport: transportMetrics(f),
    tls: tlsMetrics(f),
    metricsText: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
