/**
 * `npm run bench -- evacuate [--keys N] [--value-bytes B]`: how long an evacuation of a data
 * node holding data takes, against how fast this machine's disk copies the
 * same bytes (measured in the same run), without and then with a writer.
 * 3 coordinators and 3 data nodes (127.0.0.51–53) as real processes, RF 2,
 * 16 shards, the default recovery limits; N keys (default 8000) of B-byte
 * values (default 4 KiB) written through the smart client. Evacuation time runs from the
 * `POST /nodes/:id/evacuate` answer until `/nodes/:id/info` says done.
 * Between the two runs the node's maintenance is ended and a rebalance
 * gives it copies again.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createKvClient, type KvClient } from '../../src/client/index.js';
import { shardForKey } from '../../src/common/key-hash.js';
import { FailoverBenchCluster, type ShardView } from './failover-cluster.js';
import { log } from '../launch/log.js';
import { now, sleep } from '../launch/wait-for.js';
import { LaunchGroup } from '../launch/group.js';

export interface EvacuateBenchOptions {
  readonly keys: number;
  /** Bytes per value (the data a node holds is about keys × valueBytes × 11/16). */
  readonly valueBytes?: number;
}

const SHARD_COUNT = 16;
const DEFAULT_VALUE_BYTES = 4_096;
const LOAD_CONCURRENCY = 32;
const WRITER_CONCURRENCY = 8;
const EVACUATION_TIMEOUT_MS = 300_000;
const GREEN_TIMEOUT_MS = 120_000;
const MIB = 1024 * 1024;

interface EvacuationView {
  readonly state: string;
  readonly total: number;
  readonly moved: number;
  readonly remaining: number;
  readonly stalled_reason: string | null;
  readonly bytes_copied: number;
}

const keyOf = (i: number) => `evac-${i}`;
const valueOf = (i: number, valueBytes: number) => `${String(i).padStart(12, '0')}${'x'.repeat(valueBytes - 12)}`;

/** Runs `op` for 0..count-1 with `concurrency` in flight; returns the failures. */
async function forEachConcurrently(count: number, concurrency: number, op: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  let failures = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        await op(i).catch(() => void failures++);
      }
    }),
  );
  return failures;
}

/** Write-and-fsync then copy-and-fsync of `bytes` in the system's temporary directory: the disk's copy rate, MiB/s. */
async function diskCopyRate(bytes: number): Promise<number> {
  // A group without children: its directory goes away at the end, on an error and on Ctrl-C.
  const group = await LaunchGroup.create({ prefix: 'torua-evacuate-disk-' });
  const dir = group.dir;
  try {
    const chunk = Buffer.alloc(MIB, 7);
    const src = path.join(dir, 'src');
    const fh = await fsp.open(src, 'w');
    for (let written = 0; written < bytes; written += chunk.length) await fh.write(chunk);
    await fh.sync();
    await fh.close();
    const started = now();
    const dst = path.join(dir, 'dst');
    await fsp.copyFile(src, dst);
    const out = await fsp.open(dst, 'r+');
    await out.sync();
    await out.close();
    return bytes / MIB / ((now() - started) / 1000);
  } finally {
    await group.close();
  }
}

function bytesOnNode(shards: readonly ShardView[], node: string, keysPerShard: readonly number[], valueBytes: number): number {
  const perKey = valueBytes + keyOf(0).length;
  return shards.filter((s) => s.primary === node || s.replicas.includes(node)).reduce((sum, s) => sum + (keysPerShard[s.id] ?? 0) * perKey, 0);
}

function mostCopies(shards: readonly ShardView[]): string {
  const by = new Map<string, number>();
  for (const s of shards) for (const id of [...(s.primary === null ? [] : [s.primary]), ...s.replicas]) by.set(id, (by.get(id) ?? 0) + 1);
  return [...by].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]![0];
}

async function evacuate(cluster: FailoverBenchCluster, node: string): Promise<{ ms: number; total: number; bytesCopied: number }> {
  const status = await cluster.post(`/nodes/${node}/evacuate`, { reason: 'bench evacuate' });
  if (status !== 200) throw new Error(`POST /nodes/${node}/evacuate answered ${status}`);
  const started = now();
  for (;;) {
    const ev = (await cluster.read<{ evacuation: EvacuationView | null }>(`/nodes/${node}/info`)).evacuation;
    if (ev?.state === 'done') return { ms: now() - started, total: ev.total, bytesCopied: ev.bytes_copied };
    if (ev?.stalled_reason) throw new Error(`evacuation of ${node} stalled: ${ev.stalled_reason}`);
    if (now() - started > EVACUATION_TIMEOUT_MS) throw new Error(`evacuation of ${node} not done within ${EVACUATION_TIMEOUT_MS} ms: ${JSON.stringify(ev)}`);
    await sleep(50);
  }
}

/** Ends the node's maintenance and rebalances until it holds copies again and the cluster is green. */
async function bringBack(cluster: FailoverBenchCluster, node: string, copies: number): Promise<void> {
  if ((await cluster.post('/nodes/maintenance', { nodes: [node], enabled: false })) !== 200) throw new Error(`maintenance off for ${node} refused`);
  const deadline = now() + GREEN_TIMEOUT_MS;
  while (now() < deadline) {
    await cluster.post('/cluster/rebalance', { reason: 'bench evacuate: give the node its copies back' });
    const held = (await cluster.shards()).filter((s) => s.primary === node || s.replicas.includes(node)).length;
    if (held >= copies) return cluster.waitGreen(GREEN_TIMEOUT_MS);
    await sleep(500);
  }
  throw new Error(`${node} did not get ${copies} copies back within ${GREEN_TIMEOUT_MS} ms`);
}

/** WRITER_CONCURRENCY loops of puts through the smart client, bounded in time; a put that throws failed beyond the client's retries. */
class Writer {
  private stopped = false;
  private running: Promise<void[]> | undefined;
  acked = 0;
  failed = 0;
  constructor(
    private readonly kv: KvClient,
    private readonly valueBytes: number,
  ) {}
  start(): this {
    const until = now() + EVACUATION_TIMEOUT_MS;
    let n = 0;
    this.running = Promise.all(
      Array.from({ length: WRITER_CONCURRENCY }, async () => {
        while (!this.stopped && now() < until) {
          const i = n++;
          await this.kv.put(`w-${i}`, valueOf(i, this.valueBytes)).then(
            () => void this.acked++,
            () => void this.failed++,
          );
        }
      }),
    );
    return this;
  }
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}

const mibs = (b: number) => (b / MIB).toFixed(1);

export async function runEvacuateBench(opts: EvacuateBenchOptions): Promise<void> {
  const cluster = new FailoverBenchCluster({ name: 'evacuate', nodeHostBase: 51, shards: SHARD_COUNT });
  const lines: string[] = [];
  const notes: string[] = [];
  const valueBytes = opts.valueBytes ?? DEFAULT_VALUE_BYTES;
  let kv: KvClient | undefined;
  try {
    log(`bench evacuate: starting 3 coordinators and 3 data nodes, ${SHARD_COUNT} shards`);
    await cluster.start();
    await cluster.waitGreen(GREEN_TIMEOUT_MS);
    kv = createKvClient({ coordinators: cluster.coordinators.map((c) => `${c.host}:${c.port}`) });
    const client = kv;
    log(`writing ${opts.keys} keys of ${valueBytes} bytes`);
    const loadStarted = now();
    const loadFailures = await forEachConcurrently(opts.keys, LOAD_CONCURRENCY, (i) => client.put(keyOf(i), valueOf(i, valueBytes)));
    if (loadFailures > 0) throw new Error(`${loadFailures} of ${opts.keys} loading writes failed`);
    log(`loaded in ${((now() - loadStarted) / 1000).toFixed(1)} s`);
    const keysPerShard = Array.from({ length: SHARD_COUNT }, () => 0);
    for (let i = 0; i < opts.keys; i++) keysPerShard[shardForKey(keyOf(i), SHARD_COUNT)]!++;

    const shards = await cluster.shards();
    const node = mostCopies(shards);
    const bytes = bytesOnNode(shards, node, keysPerShard, valueBytes);
    const copies = shards.filter((s) => s.primary === node || s.replicas.includes(node)).length;
    const diskMiBs = await diskCopyRate(Math.max(bytes, 16 * MIB));
    log(`disk copy rate: ${diskMiBs.toFixed(0)} MiB/s; ${node} holds ${copies} copies, ${mibs(bytes)} MiB`);
    lines.push(`data: ${opts.keys} keys × ${valueBytes} B over ${SHARD_COUNT} shards, RF 2; ${node} holds ${copies} copies, ${mibs(bytes)} MiB of keys and values`);
    lines.push(`disk copy rate (copy + fsync of a ${mibs(Math.max(bytes, 16 * MIB))} MiB file, same run): ${diskMiBs.toFixed(0)} MiB/s → ${((bytes / MIB / diskMiBs) * 1000).toFixed(0)} ms for ${node}'s bytes`);

    const idle = await evacuate(cluster, node);
    const idleRate = bytes / MIB / (idle.ms / 1000);
    log(`evacuation without a writer: ${Math.round(idle.ms)} ms`);
    lines.push(`evacuation, no writer: ${Math.round(idle.ms)} ms for ${idle.total} copies (${idleRate.toFixed(1)} MiB/s, ${((idleRate / diskMiBs) * 100).toFixed(1)} % of the disk's copy rate); bytes_copied says ${mibs(idle.bytesCopied)} MiB`);

    await bringBack(cluster, node, copies - 1);
    const shards2 = await cluster.shards();
    const bytes2 = bytesOnNode(shards2, node, keysPerShard, valueBytes);
    const writer = new Writer(client, valueBytes).start();
    await sleep(1_000);
    const busy = await evacuate(cluster, node);
    await writer.stop();
    const busyRate = bytes2 / MIB / (busy.ms / 1000);
    log(`evacuation with a writer: ${Math.round(busy.ms)} ms`);
    lines.push(
      `evacuation, ${WRITER_CONCURRENCY} smart-client writers of ${valueBytes} B: ${Math.round(busy.ms)} ms for ${busy.total} copies, ${mibs(bytes2)} MiB before the writes (${busyRate.toFixed(1)} MiB/s; bytes_copied says ${mibs(busy.bytesCopied)} MiB); ` +
        `${writer.acked} writes acknowledged (${(writer.acked / ((busy.ms + 1_000) / 1000)).toFixed(0)}/s), ${writer.failed} failed beyond the client's retries`,
    );
    if (writer.failed > 0) notes.push(`${writer.failed} writes failed during the evacuation`);
  } catch (e) {
    notes.push(`stopped early: ${String(e).split('\n')[0]}`);
    log(`bench evacuate: ERROR ${String(e)}`);
  } finally {
    kv?.close();
    await cluster.close();
  }
  const out = [
    '',
    `Evacuation: 3 coordinators + 3 data nodes, ${SHARD_COUNT} shards, RF 2, default recovery limits (2 per node, 4 per cluster)`,
    ...lines.map((l) => `  ${l}`),
    ...notes.map((n) => `  note: ${n}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  if (notes.length > 0) process.exitCode = 1;
}
