import type { Counter, Gauge, Histogram } from './metric-types.js';
import type { Metrics } from './metrics.js';

const noop = (): void => {};
// One object per kind serves every metric: the methods ignore their arguments.
const counter: Counter<string> = { inc: noop };
const gauge: Gauge<string> = { set: noop, inc: noop, dec: noop, reset: noop };
const histogram: Histogram<string> = { observe: noop, startTimer: () => () => 0 };

// Labels only narrow the argument lists, so an instance for `string` labels fits any metric.
const c = counter as Counter<never> & Counter<string>;
const g = gauge as Gauge<never> & Gauge<string>;
const h = histogram as Histogram<never> & Histogram<string>;

/** Metrics that record nothing, for tests and tools that need no `/metrics`. */
export function createNoopMetrics(): Metrics {
  return {
    raft: { term: g, commitIndex: g, appliedIndex: g, isLeader: g, leaderChanges: c, persistSeconds: h, leaderContactGapSeconds: h, leaderContactGapMaxSeconds: g },
    health: {
      nodes: g,
      shards: g,
      probeSeconds: h,
      suspicions: c,
      confirmations: c,
      failureDecisions: c,
      shardMoves: c,
      recoveries: c,
      recoveriesActive: g,
      clusterState: g,
      underReplicatedShards: g,
    },
    http: { requestSeconds: h, errors: c, receivedBytes: c, sentBytes: c },
    transport: {
      sentBytes: c,
      receivedBytes: c,
      sentMessages: c,
      receivedMessages: c,
      droppedMessages: c,
      connected: g,
      reconnects: c,
    },
    tls: { certificateExpiry: g, reloads: c },
    metricsText: () => Promise.resolve(''),
    contentType: 'text/plain; version=0.0.4; charset=utf-8',
  };
}
