import { describe, expect, it } from 'vitest';
import { createMetrics, createNoopMetrics } from '../../src/observability/index.js';

/** The value of the series `name` with exactly `labels`, whatever order prom-client writes them in. */
function sampleValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',');
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m?.[1] !== name) continue;
    const have = (m[2] ?? '').split(/,(?=[a-z_]+=")/).filter(Boolean).sort().join(',');
    if (have === want) return Number(m[3]);
  }
  return undefined;
}

describe('createMetrics (prom-client)', () => {
  it('shows every metric, by name, with its values after updates', async () => {
    const m = createMetrics({ defaultLabels: { process: 'c1' } });
    m.raft.term.set(7);
    m.raft.commitIndex.set(1234);
    m.raft.appliedIndex.set(1230);
    m.raft.isLeader.set(1);
    m.raft.leaderChanges.inc();
    m.raft.persistSeconds.observe(0.002);
    m.health.nodes.set({ status: 'healthy' }, 2);
    m.health.nodes.set({ status: 'unhealthy' }, 1);
    m.health.shards.set({ node: 'n1', role: 'primary' }, 3);
    m.health.probeSeconds.observe({ result: 'ok' }, 0.003);
    m.health.suspicions.inc({ node: 'n3' });
    m.health.confirmations.inc({ result: 'failed' }, 2);
    m.health.failureDecisions.inc({ outcome: 'committed' });
    m.health.shardMoves.inc({ kind: 'promote' }, 4);
    m.health.recoveries.inc({ outcome: 'started' });
    m.health.recoveriesActive.inc();
    m.health.clusterState.set({ state: 'yellow' }, 1);
    m.http.requestSeconds.observe({ route: '/data/:key', method: 'PUT', status: 204 }, 0.0012);
    m.http.errors.inc({ code: 'NOT_LEADER' });
    m.http.receivedBytes.inc({ route: '/data/:key' }, 100);
    m.http.sentBytes.inc({ route: '/data/:key' }, 0);
    m.transport.sentBytes.inc({ peer: 'c2' }, 512);
    m.transport.receivedBytes.inc({ peer: 'c2' }, 256);
    m.transport.sentMessages.inc({ peer: 'c2' });
    m.transport.receivedMessages.inc({ peer: 'c2' });
    m.transport.droppedMessages.inc({ peer: 'c3' });
    m.transport.connected.set({ peer: 'c2' }, 1);
    m.transport.reconnects.inc({ peer: 'c3' });

    const text = await m.metricsText();
    const expected: [string, Record<string, string>, number][] = [
      ['torua_raft_term', { process: 'c1' }, 7],
      ['torua_raft_commit_index', { process: 'c1' }, 1234],
      ['torua_raft_applied_index', { process: 'c1' }, 1230],
      ['torua_raft_is_leader', { process: 'c1' }, 1],
      ['torua_raft_leader_changes_total', { process: 'c1' }, 1],
      ['torua_raft_persist_duration_seconds_count', { process: 'c1' }, 1],
      ['torua_nodes', { status: 'healthy', process: 'c1' }, 2],
      ['torua_nodes', { status: 'unhealthy', process: 'c1' }, 1],
      ['torua_node_shards', { node: 'n1', role: 'primary', process: 'c1' }, 3],
      ['torua_probe_duration_seconds_bucket', { le: '0.005', process: 'c1', result: 'ok' }, 1],
      ['torua_suspicions_total', { node: 'n3', process: 'c1' }, 1],
      ['torua_confirmations_total', { result: 'failed', process: 'c1' }, 2],
      ['torua_failure_decisions_total', { outcome: 'committed', process: 'c1' }, 1],
      ['torua_shard_moves_total', { kind: 'promote', process: 'c1' }, 4],
      ['torua_recoveries_total', { outcome: 'started', process: 'c1' }, 1],
      ['torua_recoveries_active', { process: 'c1' }, 1],
      ['torua_cluster_state', { state: 'yellow', process: 'c1' }, 1],
      ['torua_http_request_duration_seconds_count', { route: '/data/:key', method: 'PUT', status: '204', process: 'c1' }, 1],
      ['torua_http_errors_total', { code: 'NOT_LEADER', process: 'c1' }, 1],
      ['torua_http_received_bytes_total', { route: '/data/:key', process: 'c1' }, 100],
      ['torua_peer_sent_bytes_total', { peer: 'c2', process: 'c1' }, 512],
      ['torua_peer_received_bytes_total', { peer: 'c2', process: 'c1' }, 256],
      ['torua_peer_sent_messages_total', { peer: 'c2', process: 'c1' }, 1],
      ['torua_peer_received_messages_total', { peer: 'c2', process: 'c1' }, 1],
      ['torua_http_sent_bytes_total', { route: '/data/:key', process: 'c1' }, 0],
      ['torua_peer_dropped_messages_total', { peer: 'c3', process: 'c1' }, 1],
      ['torua_peer_connected', { peer: 'c2', process: 'c1' }, 1],
      ['torua_peer_reconnects_total', { peer: 'c3', process: 'c1' }, 1],
    ];
    for (const [name, labels, value] of expected) expect(sampleValue(text, name, labels), `${name} ${JSON.stringify(labels)}`).toBe(value);
    // Every metric of the typed interfaces is registered, one family each.
    const families = text.split('\n').filter((l) => l.startsWith('# TYPE torua_'));
    const metricCount = [m.raft, m.health, m.http, m.transport, m.tls].reduce((n, group) => n + Object.keys(group).length, 0);
    expect(families).toHaveLength(metricCount);
    expect(text).toContain('# HELP torua_probe_duration_seconds Health probe round trip');
    expect(text).toContain('# TYPE torua_raft_leader_changes_total counter');
    expect(m.contentType).toMatch(/^text\/plain/);
  });

  it('includes the process metrics (heap), unless asked not to', async () => {
    expect(await createMetrics().metricsText()).toMatch(/^nodejs_heap_size_used_bytes \d+/m);
    expect(await createMetrics({ processMetrics: false }).metricsText()).not.toContain('nodejs_heap');
  });

  it('times with a timer that takes the labels at the end', async () => {
    const m = createMetrics({ processMetrics: false });
    const end = m.http.requestSeconds.startTimer();
    const seconds = end({ route: '/health', method: 'GET', status: 200 });
    expect(seconds).toBeGreaterThanOrEqual(0);
    expect(await m.metricsText()).toContain('torua_http_request_duration_seconds_count{route="/health",method="GET",status="200"} 1');
  });

  it('resets a gauge set from a recount', async () => {
    const m = createMetrics({ processMetrics: false });
    m.health.nodes.set({ status: 'suspect' }, 1);
    m.health.nodes.reset();
    m.health.nodes.set({ status: 'healthy' }, 3);
    const text = await m.metricsText();
    expect(text).not.toContain('status="suspect"');
    expect(text).toContain('torua_nodes{status="healthy"} 3');
  });

  it('keeps two instances apart', async () => {
    const a = createMetrics({ processMetrics: false });
    const b = createMetrics({ processMetrics: false });
    a.raft.term.set(1);
    b.raft.term.set(2);
    expect(await a.metricsText()).toContain('torua_raft_term 1');
    expect(await b.metricsText()).toContain('torua_raft_term 2');
  });
});

describe('createNoopMetrics', () => {
  it('takes every call and shows nothing', async () => {
    const m = createNoopMetrics();
    m.raft.term.set(3);
    m.health.nodes.set({ status: 'healthy' }, 1);
    m.health.nodes.reset();
    m.health.probeSeconds.observe({ result: 'ok' }, 0.1);
    expect(m.http.requestSeconds.startTimer()({ route: '/', method: 'GET', status: 200 })).toBe(0);
    m.transport.sentBytes.inc({ peer: 'c2' }, 10);
    expect(await m.metricsText()).toBe('');
  });
});
