// GET /metrics of an in-process coordinator (a real single-voter replica behind the API server): every family the README lists is there, fed.
import { afterEach, describe, expect, it } from 'vitest';
import { raftSettingsSchema } from '../../src/config/index.js';
import { shardMoveKind } from '../../src/coordinator/notifications/index.js';
import { CoordinatorReplica } from '../../src/coordinator/replica.js';
import { initialState, type RoutingEvent } from '../../src/coordinator/routing/index.js';
import { createMetrics, silentLogger } from '../../src/observability/index.js';
import { SeededRng } from '../../src/raft/index.js';
import { MemoryStorage } from '../../src/storage/index.js';
import type { TransportStats } from '../../src/transport/index.js';
import { startServer, waitFor } from './helpers.js';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The samples of the Prometheus text format (comments skipped). */
function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function value(all: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const matching = all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return matching.length === 0 ? undefined : matching.reduce((sum, s) => sum + s.value, 0);
}

const transport: TransportStats = {
  sentMessages: 12,
  receivedMessages: 10,
  sentBytes: 4_096,
  receivedBytes: 2_048,
  socketWrites: 5,
  dropped: 1,
  rejected: 0,
  queued: 0,
  connected: ['c2'],
  inbound: ['c2'],
};

let replica: CoordinatorReplica | undefined;
afterEach(async () => {
  await replica?.close();
  replica = undefined;
});

async function coordinator() {
  const metrics = createMetrics({ defaultLabels: { replica: 'c1' } });
  const members = [{ id: 'c1', host: '127.0.0.1', apiPort: 7001, peerPort: 7101 }];
  replica = await CoordinatorReplica.start(
    {
      id: 'c1',
      clusterId: 'metrics',
      version: 'test',
      raft: raftSettingsSchema.parse({ tickMs: 5, electionTicks: 10, heartbeatTicks: 2 }),
      initialVoters: ['c1'],
      initialTable: initialState({ clusterId: 'metrics', shards: 2, members }),
    },
    { storage: new MemoryStorage(), outbox: { send: () => undefined, setPeers: () => undefined }, logger: silentLogger, metrics, rng: new SeededRng(7) },
  );
  const leading = replica;
  await waitFor('the single replica to lead', () => leading.status().role === 'leader');
  const server = await startServer(replica, { metrics, transportStats: () => transport });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
    return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() };
  };
  return { call, metrics };
}

describe('GET /metrics on a coordinator', () => {
  it('serves every family with a plausible value after some activity', async () => {
    const { call } = await coordinator();
    for (const id of ['n1', 'n2', 'n3']) expect((await call('POST', '/register', { id, address: `127.0.0.1:${8080 + id.length}` })).status).toBe(200);
    expect((await call('POST', '/shards/0/assign', { primary: 'n1', replicas: ['n2'], expectedEpoch: 0 })).status).toBe(200);
    expect((await call('POST', '/shards/1/assign', { primary: 'n2', replicas: [], expectedEpoch: 0 })).status).toBe(200);
    // A replica added by the repair rule's words (a recovery starts), then caught up (it completes).
    expect((await call('POST', '/shards/1/assign', { primary: 'n2', replicas: ['n3'], expectedEpoch: 1, reason: 'repair: test' })).status).toBe(200);
    expect((await call('POST', '/shards/1/in-sync', { nodeId: 'n3', inSync: true, expectedEpoch: 2 })).status).toBe(200);
    expect((await call('GET', '/nodes/nope/info')).status).toBe(404);
    expect((await call('GET', '/cluster/info')).status).toBe(200);

    const scrape = await call('GET', '/metrics');
    expect(scrape.status).toBe(200);
    const text = scrape.body as string;
    const all = samples(text);
    const at = (name: string, labels: Record<string, string> = {}) => value(all, name, labels);

    // Nodes by status and shards per node and role, recounted from the table at the scrape.
    expect(at('torua_nodes', { status: 'unknown' })).toBe(3);
    expect(at('torua_nodes', { status: 'healthy' })).toBe(0);
    expect(at('torua_node_shards', { node: 'n2', role: 'primary' })).toBe(1);
    expect(at('torua_node_shards', { node: 'n2', role: 'replica' })).toBe(1);
    expect(at('torua_node_shards', { node: 'n3', role: 'replica' })).toBe(1);
    expect(at('torua_cluster_state', { state: 'green' })).toBe(1);
    expect(at('torua_cluster_state', { state: 'red' })).toBe(0);
    expect(at('torua_recoveries_active')).toBe(0);
    expect(at('torua_shards_under_replicated')).toBe(0);
    // Shard moves and recoveries, counted from the applied events.
    expect(at('torua_shard_moves_total', { kind: 'assign' })).toBe(2);
    expect(at('torua_shard_moves_total', { kind: 'add_replica' })).toBe(1);
    expect(at('torua_recoveries_total', { outcome: 'started' })).toBe(1);
    expect(at('torua_recoveries_total', { outcome: 'completed' })).toBe(1);
    // Raft, fed by the replica.
    expect(at('torua_raft_term')).toBeGreaterThanOrEqual(1);
    expect(at('torua_raft_commit_index')).toBeGreaterThanOrEqual(6);
    expect(at('torua_raft_is_leader')).toBe(1);
    expect(at('torua_raft_leader_changes_total')).toBeGreaterThanOrEqual(1);
    // Requests by route, errors by code, bytes in and out.
    expect(at('torua_http_request_duration_seconds_count', { route: '/register', method: 'POST', status: '200' })).toBe(3);
    expect(at('torua_http_request_duration_seconds_count', { route: '/nodes/:id/info', status: '404' })).toBe(1);
    expect(at('torua_http_errors_total', { code: 'NOT_FOUND' })).toBe(1);
    expect(at('torua_http_received_bytes_total', { route: '/register' })).toBeGreaterThan(0);
    expect(at('torua_http_sent_bytes_total', { route: '/cluster/info' })).toBeGreaterThan(0);
    // Replica-to-replica traffic, from the transport's totals.
    expect(at('torua_peer_sent_bytes_total', { peer: 'all' })).toBe(4_096);
    expect(at('torua_peer_received_bytes_total', { peer: 'all' })).toBe(2_048);
    expect(at('torua_peer_connected', { peer: 'c2' })).toBe(1);
    // The process: heap.
    expect(at('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(at('process_resident_memory_bytes')).toBeGreaterThan(0);
    // Fed by the health monitor (its own tests); declared here, so a dashboard finds the family before the first probe.
    for (const family of ['torua_probe_duration_seconds', 'torua_suspicions_total', 'torua_confirmations_total', 'torua_failure_decisions_total']) {
      expect(text).toContain(`# TYPE ${family} `);
    }

    // Counters only add what is new at the next scrape; gauges are recounted.
    const again = samples((await call('GET', '/metrics')).body as string);
    expect(value(again, 'torua_peer_sent_bytes_total', { peer: 'all' })).toBe(4_096);
    expect(value(again, 'torua_shard_moves_total', { kind: 'assign' })).toBe(2);
  });
});

describe('shard move kinds', () => {
  const event = (kind: RoutingEvent['kind'], reason: string): RoutingEvent => ({ seq: 1, index: 1, term: 1, timeMs: 0, kind, node: null, shard: 0, member: null, message: '', reason });

  it('names promotions, the planner rules of moves, and moves by hand', () => {
    expect(shardMoveKind(event('shard-promoted', 'failover: n1 is unhealthy'))).toBe('promote');
    expect(shardMoveKind(event('shard-moved', 'balance: n1 holds 6 copies'))).toBe('rebalance');
    expect(shardMoveKind(event('shard-moved', 'trim: dropping'))).toBe('remove_replica');
    expect(shardMoveKind(event('shard-moved', 'shard assigned through the API'))).toBe('move');
    expect(shardMoveKind(event('node-status', 'balance: not a move'))).toBeUndefined();
  });
});
