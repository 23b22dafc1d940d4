import type { Counter, Gauge, Histogram } from './metric-types.js';

/** The replica's consensus state (coordinators). */
export interface RaftMetrics {
  term: Gauge;
  commitIndex: Gauge;
  appliedIndex: Gauge;
  /** 1 on the leader, 0 elsewhere: summed over replicas it must be 1. */
  isLeader: Gauge;
  /** Times this replica saw the leader change (including to "none"). */
  leaderChanges: Counter;
  /** One synced write of a Ready batch (hard state + entries): fsync latency bounds commit latency. */
  persistSeconds: Histogram;
  /** On a follower: the time between two messages from the same leader (its heartbeats come every heartbeatTicks). */
  leaderContactGapSeconds: Histogram;
  /** On a follower: the longest such gap since the leader last changed (an election follows one longer than the election timeout). */
  leaderContactGapMaxSeconds: Gauge;
}

/** The leader's health monitor, failure decisions and shard movement (DESIGN.md §5). */
export interface HealthMetrics {
  /** Nodes per status, from the routing table; set with `reset()` then one `set` per status. */
  nodes: Gauge<'status'>;
  /** Shards held per node and role (primary or replica). */
  shards: Gauge<'node' | 'role'>;
  /** Probe round trip; `result` is `ok` or `failed` (a timeout counts as failed at the timeout). */
  probeSeconds: Histogram<'result'>;
  /** A node passed the failure threshold on this replica. */
  suspicions: Counter<'node'>;
  /** Answers to "probe this node for me": `failed` confirms the suspicion, `ok` refutes it. */
  confirmations: Counter<'result'>;
  /** Failure decisions: `committed`, or refused as `no_majority`, `storm_guard`. */
  failureDecisions: Counter<'outcome'>;
  /** Committed shard moves: `promote`, `add_replica`, `remove_replica`, `rebalance`. */
  shardMoves: Counter<'kind'>;
  /** Replica recoveries (copy from the primary): `started`, `completed`, `failed`. */
  recoveries: Counter<'outcome'>;
  /** Recoveries under way now. */
  recoveriesActive: Gauge;
  /** 1 for the current state (`green`, `yellow`, `red`), 0 for the others. */
  clusterState: Gauge<'state'>;
  /** Shards with fewer in-sync copies on serving nodes than replicationFactor (what the under-replication alert watches). */
  underReplicatedShards: Gauge;
}

/** The HTTP API (tRPC and REST), coordinators and data nodes alike. */
export interface HttpMetrics {
  /** By route pattern (`/data/:key`, never the raw path: keys are unbounded), method and status. */
  requestSeconds: Histogram<'route' | 'method' | 'status'>;
  /** Error answers by public error code (NOT_LEADER, NO_QUORUM …). */
  errors: Counter<'code'>;
  /** Body bytes, for the data path's throughput. */
  receivedBytes: Counter<'route'>;
  sentBytes: Counter<'route'>;
}

/** Replica-to-replica traffic, per peer. */
export interface TransportMetrics {
  sentBytes: Counter<'peer'>;
  receivedBytes: Counter<'peer'>;
  sentMessages: Counter<'peer'>;
  receivedMessages: Counter<'peer'>;
  /** Messages dropped because the peer's send queue was full (Raft retransmits). */
  droppedMessages: Counter<'peer'>;
  /** 1 while a connection to the peer is up. */
  connected: Gauge<'peer'>;
  reconnects: Counter<'peer'>;
}

/** The process's certificates (with the cluster file's `tls`). */
export interface TlsMetrics {
  /** When a certificate expires, Unix seconds; `certificate` is `own` or `ca`. Re-set on every reload (SIGHUP). */
  certificateExpiry: Gauge<'certificate'>;
  /** Reloads on SIGHUP: `ok`, or `failed` (the old certificates stay in use). */
  reloads: Counter<'result'>;
}

/** Every metric a process exposes, plus its `/metrics` text. */
export interface Metrics {
  readonly raft: RaftMetrics;
  readonly health: HealthMetrics;
  readonly http: HttpMetrics;
  readonly transport: TransportMetrics;
  readonly tls: TlsMetrics;
  /** The Prometheus text exposition format, for `GET /metrics`. */
  metricsText(): Promise<string>;
  /** The Content-Type header that goes with `metricsText()`. */
  readonly contentType: string;
}
