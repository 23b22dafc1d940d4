/**
 * `npm run bench -- hot [--seconds S]`: load-based balancing under a skewed
 * workload. 3 coordinators and 3 data nodes (127.0.0.61–63) as real
 * processes, RF 2, 8 shards, default settings (hotRatio 1.8, hotWindowMs
 * 30 s). 16 smart-client readers send 80% of their requests to the shards
 * whose primaries sit on the node leading the most shards, 20% to the rest.
 * Measured: the time from the start of the load until the leader's view of
 * max/mean node load (requests per second, as the nodes report it over their
 * 10 s window) is ≤ 1.3, the number of load moves (events whose reason
 * starts `load:`: handoffs, and relocations — a copy added on a cool node,
 * then the handover that drops the hot node's copy), and read latency p50/p99 in the 10 s before the first
 * move and in the last 10 s. Bounded by S seconds (default 150).
 */
import { createKvClient, type KvClient } from '../../src/client/index.js';
import { shardForKey } from '../../src/common/key-hash.js';
import { FailoverBenchCluster } from './failover-cluster.js';
import { parseJson, request } from './http.js';
import { log } from '../launch/log.js';
import { now, sleep } from '../launch/wait-for.js';

export interface HotBenchOptions {
  readonly seconds: number;
}

const SHARD_COUNT = 8;
const KEYS = 800;
const READERS = 16;
const TARGET = 1.3;
const WINDOW_MS = 10_000;

interface Sample {
  readonly atMs: number;
  readonly ms: number;
}

const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
};

async function leaderLoads(cluster: FailoverBenchCluster): Promise<Map<string, number> | undefined> {
  const info = await cluster.read<{ leader: string | null }>('/cluster/info?stale=true');
  const leader = cluster.coordinators.find((c) => c.id === info.leader);
  if (leader === undefined) return undefined;
  const a = await request(false, leader.host, leader.port, 'GET', '/nodes', undefined, 2_000);
  const body = parseJson(a.text) as { nodes: { id: string; load: { reads_per_s: number; writes_per_s: number } | null }[] } | undefined;
  if (a.status !== 200 || body === undefined) return undefined;
  return new Map(body.nodes.map((n) => [n.id, n.load === null ? 0 : n.load.reads_per_s + n.load.writes_per_s]));
}

const ratioOf = (loads: ReadonlyMap<string, number>) => {
  const values = [...loads.values()];
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return mean === 0 ? NaN : Math.max(...values) / mean;
};

export async function runHotBench(opts: HotBenchOptions): Promise<void> {
  const cluster = new FailoverBenchCluster({ name: 'hot', nodeHostBase: 61, shards: SHARD_COUNT });
  let kv: KvClient | undefined;
  let stop = false;
  const samples: Sample[] = [];
  const failures: string[] = [];
  try {
    log('bench hot: starting 3 coordinators and 3 data nodes, 8 shards, RF 2');
    await cluster.start();
    await cluster.waitGreen(120_000);
    kv = createKvClient({ coordinators: cluster.coordinators.map((c) => `${c.host}:${c.port}`) });
    const client = kv;
    const shards = await cluster.shards();
    const leads = new Map<string, number>();
    for (const s of shards) if (s.primary !== null) leads.set(s.primary, (leads.get(s.primary) ?? 0) + 1);
    const hot = [...leads].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
    const hotShards = new Set(shards.filter((s) => s.primary === hot).map((s) => s.id));
    const keys = Array.from({ length: KEYS }, (_, i) => `hot-${i}`);
    const hotKeys = keys.filter((k) => hotShards.has(shardForKey(k, SHARD_COUNT)));
    const coldKeys = keys.filter((k) => !hotShards.has(shardForKey(k, SHARD_COUNT)));
    for (const k of keys) await client.put(k, 'v');
    const since = (await cluster.events(0)).last_seq;
    log(`${hot} leads shards ${[...hotShards].join(', ')}: 80% of the reads go there`);
    const started = now();
    const deadline = started + opts.seconds * 1000;
    const reader = async (w: number) => {
      for (let i = 0; !stop && i < 10_000_000 && now() < deadline; i++) {
        const list = i % 5 === 4 ? coldKeys : hotKeys;
        const t = now();
        try {
          await client.getText(list[(i * 13 + w) % list.length]!);
          samples.push({ atMs: t - started, ms: now() - t });
        } catch (e) {
          if (failures.length < 20) failures.push(e instanceof Error ? e.message : String(e));
        }
      }
    };
    const readers = Array.from({ length: READERS }, (_, w) => reader(w));
    let firstMoveMs: number | null = null;
    let balancedMs: number | null = null;
    let moves = 0;
    let copies = 0;
    let handovers = 0;
    let ratio = NaN;
    for (let i = 0; i < 100_000 && now() < deadline; i++) {
      await sleep(500);
      const evs = (await cluster.events(since)).events.filter((e) => (e as { reason?: string }).reason?.startsWith('load:') === true);
      moves = evs.filter((e) => e.kind === 'shard-promoted').length;
      // A relocation is two events: the copy added, then the handover that drops the hot copy.
      copies = evs.filter((e) => e.kind === 'shard-moved' && (e as { reason?: string }).reason?.includes('gets a copy') === true).length;
      handovers = evs.filter((e) => e.kind === 'shard-moved' && (e as { reason?: string }).reason?.includes('copy is dropped') === true).length;
      if (moves + copies > 0 && firstMoveMs === null) firstMoveMs = now() - started;
      const loads = await leaderLoads(cluster).catch(() => undefined);
      if (loads !== undefined) ratio = ratioOf(loads);
      // Balanced: after a move, and once the reports' window holds only traffic since it.
      if (firstMoveMs !== null && ratio <= TARGET && now() - started >= firstMoveMs + WINDOW_MS) {
        balancedMs = now() - started;
        break;
      }
    }
    // Ten more seconds of the balanced workload for the "after" latency.
    const tail = now();
    while (balancedMs !== null && now() - tail < WINDOW_MS && now() < deadline) await sleep(250);
    stop = true;
    await Promise.all(readers);
    const end = now() - started;
    const before = samples.filter((s) => firstMoveMs !== null && s.atMs >= firstMoveMs - WINDOW_MS && s.atMs < firstMoveMs).map((s) => s.ms);
    const after = samples.filter((s) => s.atMs >= end - WINDOW_MS).map((s) => s.ms);
    const f = (n: number) => (Number.isNaN(n) ? '–' : n.toFixed(1));
    const out = [
      '| measure | value |',
      '|---|---|',
      `| time to max/mean ≤ ${TARGET} (from the start of the skew) | ${balancedMs === null ? `not within ${opts.seconds} s (last ratio ${f(ratio)})` : `${(balancedMs / 1000).toFixed(1)} s`} |`,
      `| first load move after | ${firstMoveMs === null ? 'none' : `${(firstMoveMs / 1000).toFixed(1)} s`} (hotWindowMs 30 s, then 12 s cool-downs between moves) |`,
      `| load moves: handoffs; relocations (copy added, then handed over and the hot copy dropped) | ${moves}; ${copies} (${handovers} finished) |`,
      `| reads p50 / p99 before the first move (10 s) | ${f(quantile(before, 0.5))} / ${f(quantile(before, 0.99))} ms (${before.length} reads) |`,
      `| reads p50 / p99 in the last 10 s | ${f(quantile(after, 0.5))} / ${f(quantile(after, 0.99))} ms (${after.length} reads) |`,
      `| reads failed beyond the client's retries | ${failures.length}${failures.length > 0 ? ` (${failures[0]})` : ''} |`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    if (balancedMs === null) process.exitCode = 1;
  } finally {
    stop = true;
    kv?.close();
    await cluster.close();
  }
}
