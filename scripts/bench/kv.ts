/**
 * `npm run bench -- kv [--seconds S]`: puts and gets per second of 100-byte
 * values at 1, 16 and 64 concurrent clients, with p50/p99, through the smart
 * client and through a coordinator's REST `/data` (3 coordinators and 3 data
 * nodes as real processes, RF 2, 8 shards), and, when `etcd` is on the PATH,
 * etcd's puts and linearizable reads at the same concurrency; one table with
 * the ratios to etcd. One load-generating process drives every system.
 */
import { execFileSync } from 'node:child_process';
import { KvBenchCluster } from './kv-cluster.js';
import { warmThenMeasure, type KvRate } from './kv-measure.js';
import { coordinatorRestWorkload, etcdWorkload, smartClientWorkload, VALUE_BYTES, type KvWorkload } from './kv-systems.js';
import { log } from '../launch/log.js';
import { EtcdCluster } from './systems.js';

export interface KvBenchOptions {
  readonly seconds: number;
  /** Also the same cluster with mutual TLS on every port, in the same run, and the cost of it. */
  readonly tls?: boolean;
  /**
   * The torua clusters this many times (default 1), plain and TLS taking
   * turns at going first; each cell shows the median. On a shared machine
   * one run moves by more than the cost of TLS.
   */
  readonly rounds?: number;
}

const CLIENT_COUNTS = [1, 16, 64] as const;
type Kind = 'put' | 'get';
/** label → "put 16" → rate. */
type Results = Map<string, Map<string, KvRate>>;

const cell = (kind: Kind, clients: number): string => `${kind} ${clients}`;

async function measureWorkload(w: KvWorkload, seconds: number, results: Results, notes: string[]): Promise<void> {
  const rates = new Map<string, KvRate>();
  results.set(w.label, rates);
  for (const kind of ['put', 'get'] as const) {
    for (const n of CLIENT_COUNTS) {
      const rate = await warmThenMeasure(n, seconds, w[kind], w.cpuSeconds);
      rates.set(cell(kind, n), rate);
      log(`${w.label}: ${kind}s, ${n} client(s): ${Math.round(rate.perSec)}/s, p50 ${rate.p50.toFixed(2)} ms, p99 ${rate.p99.toFixed(2)} ms${rate.errors ? `, ${rate.errors} errors` : ''}`);
    }
  }
  for (const f of w.failures?.() ?? []) notes.push(`${w.label}: failed: ${f}`);
}

/** Runs `body` on a started system and closes it whatever happens; a failure becomes a note under the table. */
async function guarded(label: string, notes: string[], start: () => Promise<void>, body: () => Promise<void>, close: () => Promise<void>): Promise<void> {
  try {
    await start();
    await body();
  } catch (e) {
    notes.push(`${label}: stopped early: ${String(e).split('\n')[0]}`);
    log(`${label}: ERROR ${String(e)}`);
  } finally {
    await close();
  }
}

/** Measures `w` and closes it, even when a cell throws. */
async function measureAndClose(w: KvWorkload, seconds: number, results: Results, notes: string[]): Promise<void> {
  try {
    await measureWorkload(w, seconds, results, notes);
  } finally {
    w.close();
  }
}

function measureTorua(seconds: number, results: Results, notes: string[], tls = false): Promise<void> {
  const cluster = new KvBenchCluster(tls);
  const suffix = tls ? TLS_SUFFIX : '';
  const start = () => {
    log(`kv bench: starting 3 coordinators and 3 data nodes${tls ? ' with mutual TLS' : ''}`);
    return cluster.start();
  };
  return guarded(`torua${suffix}`, notes, start, async () => {
    // Made after start: with TLS the clients pick up the bench's client certificate then.
    const cpuSeconds = () => cluster.cpuSeconds();
    const smart = { ...smartClientWorkload(cluster), label: `smart client${suffix}`, cpuSeconds };
    await smart.prefill().catch((e: unknown) => {
      smart.close();
      throw e;
    });
    await measureAndClose(smart, seconds, results, notes);
    await measureAndClose({ ...coordinatorRestWorkload(cluster), label: `coordinator REST${suffix}`, cpuSeconds }, seconds, results, notes);
  }, () => cluster.close());
}

function measureEtcd(binary: string, seconds: number, results: Results, notes: string[]): Promise<void> {
  const sys = new EtcdCluster('etcd', binary, undefined);
  const start = () => {
    log('etcd: starting 3 members');
    return sys.start();
  };
  return guarded('etcd', notes, start, async () => measureAndClose(await etcdWorkload(sys), seconds, results, notes), () => sys.close());
}

function etcdBinary(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v etcd'], { encoding: 'utf8', timeout: 5_000 }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const fmtN = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '—' : Math.round(n).toLocaleString('en-US'));
const fmtMs = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '—' : n < 10 ? n.toFixed(2) : n.toFixed(1));
const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b) || b === 0 ? '—' : `${(a / b).toFixed(2)}×`;

function renderTable(results: Results, withEtcd: boolean): string[] {
  const withTls = results.has(`smart client${TLS_SUFFIX}`);
  const labels = ['smart client', 'coordinator REST', ...(withEtcd ? ['etcd'] : []), ...(withTls ? [`smart client${TLS_SUFFIX}`, `coordinator REST${TLS_SUFFIX}`] : [])];
  const header = ['measure', ...labels, ...(withEtcd ? ['smart/etcd', 'REST/etcd'] : [])];
  const rows: string[][] = [];
  const rate = (label: string, kind: Kind, n: number) => results.get(label)?.get(cell(kind, n));
  for (const kind of ['put', 'get'] as const) {
    for (const n of CLIENT_COUNTS) {
      const what = kind === 'put' ? 'puts/s' : 'gets/s (etcd: linearizable)';
      const per = labels.map((l) => rate(l, kind, n)?.perSec);
      const ratios = withEtcd ? [ratio(per[0], per[2]), ratio(per[1], per[2])] : [];
      rows.push([`${what}, ${n} client${n > 1 ? 's' : ''}`, ...per.map(fmtN), ...ratios]);
      rows.push(['  p50 ms', ...labels.map((l) => fmtMs(rate(l, kind, n)?.p50))]);
      rows.push(['  p99 ms', ...labels.map((l) => fmtMs(rate(l, kind, n)?.p99))]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

function renderGoals(results: Results, withEtcd: boolean): string[] {
  const smart = results.get('smart client');
  const etcd = results.get('etcd');
  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? 'met' : 'NOT met');
  const versus = (kind: Kind, factor: number): string => {
    const a = smart?.get(cell(kind, 64))?.perSec;
    const b = etcd?.get(cell(kind, 64))?.perSec;
    const ok = a === undefined || b === undefined ? undefined : a >= factor * b;
    return `${verdict(withEtcd ? ok : undefined)} (${fmtN(a)} vs ${fmtN(b)}${withEtcd ? '' : ', no etcd'})`;
  };
  const p99 = Math.max(smart?.get(cell('put', 16))?.p99 ?? NaN, smart?.get(cell('get', 16))?.p99 ?? NaN);
  const errors = [...results].map(([label, m]) => `${label}: ${[...m.values()].reduce((n, r) => n + r.errors, 0)}`).join(', ');
  return [
    'Goals (smart client):',
    `  puts/s at 64 clients ≥ 1.5× etcd's puts/s: ${versus('put', 1.5)}`,
    `  gets/s at 64 clients ≥ 2× etcd's linearizable reads/s: ${versus('get', 2)}`,
    `  p99 < 10 ms at 16 clients (puts and gets): ${verdict(Number.isNaN(p99) ? false : p99 < 10)} (${fmtMs(p99)} ms)`,
    `  failed requests: ${errors || 'none measured'}`,
  ];
}

const TLS_SUFFIX = ' tls';

/** What mutual TLS costs: ops/s with it against without, per cell (goal: at most 15% fewer). */
function renderTlsCost(results: Results): string[] {
  const lines = ['TLS cost (ops/s with mutual TLS vs plaintext; goal ≤ 15% fewer):'];
  for (const label of ['smart client', 'coordinator REST']) {
    for (const kind of ['put', 'get'] as const) {
      for (const n of CLIENT_COUNTS) {
        const plain = results.get(label)?.get(cell(kind, n))?.perSec;
        const secured = results.get(`${label}${TLS_SUFFIX}`)?.get(cell(kind, n))?.perSec;
        const cost = plain === undefined || secured === undefined || plain === 0 ? '—' : `${(100 * (1 - secured / plain)).toFixed(1)}% fewer`;
        const cpu = (l: string) => results.get(l)?.get(cell(kind, n));
        const [p, t] = [cpu(label), cpu(`${label}${TLS_SUFFIX}`)];
        const cpuCost = `CPU µs/op servers ${fmtN(t?.systemCpuUs)} vs ${fmtN(p?.systemCpuUs)}, clients ${fmtN(t?.clientCpuUs)} vs ${fmtN(p?.clientCpuUs)}`;
        lines.push(`  ${label}, ${kind}s, ${n} client${n > 1 ? 's' : ''}: ${fmtN(secured)} vs ${fmtN(plain)}: ${cost}; ${cpuCost}`);
      }
    }
  }
  return lines;
}

/** The median of each field over the rounds that measured the cell. */
function medianOf(rates: readonly KvRate[]): KvRate {
  const mid = (xs: (number | undefined)[]): number | undefined => {
    const v = xs.filter((x): x is number => x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
    if (v.length === 0) return undefined;
    return v.length % 2 === 1 ? v[(v.length - 1) / 2] : ((v[v.length / 2 - 1] as number) + (v[v.length / 2] as number)) / 2;
  };
  const systemCpuUs = mid(rates.map((r) => r.systemCpuUs));
  const clientCpuUs = mid(rates.map((r) => r.clientCpuUs));
  return {
    perSec: mid(rates.map((r) => r.perSec)) ?? NaN,
    p50: mid(rates.map((r) => r.p50)) ?? NaN,
    p99: mid(rates.map((r) => r.p99)) ?? NaN,
    errors: rates.reduce((n, r) => n + r.errors, 0),
    ...(systemCpuUs === undefined ? {} : { systemCpuUs }),
    ...(clientCpuUs === undefined ? {} : { clientCpuUs }),
  };
}

function combineRounds(rounds: readonly Results[]): Results {
  const out: Results = new Map();
  for (const label of new Set(rounds.flatMap((r) => [...r.keys()]))) {
    const cells = new Map<string, KvRate>();
    for (const c of new Set(rounds.flatMap((r) => [...(r.get(label)?.keys() ?? [])]))) {
      cells.set(c, medianOf(rounds.map((r) => r.get(label)?.get(c)).filter((x): x is KvRate => x !== undefined)));
    }
    out.set(label, cells);
  }
  return out;
}

/** Each round's TLS cost of each cell, for the list under the medians. */
function tlsCostByRound(rounds: readonly Results[]): string[] {
  if (rounds.length < 2) return [];
  const lines = ['TLS cost per round (% fewer ops/s; plain first in rounds 1, 3, …):'];
  for (const label of ['smart client', 'coordinator REST']) {
    for (const kind of ['put', 'get'] as const) {
      for (const n of CLIENT_COUNTS) {
        const costs = rounds.map((r) => {
          const plain = r.get(label)?.get(cell(kind, n))?.perSec;
          const secured = r.get(`${label}${TLS_SUFFIX}`)?.get(cell(kind, n))?.perSec;
          return plain === undefined || secured === undefined || plain === 0 ? '—' : (100 * (1 - secured / plain)).toFixed(1);
        });
        lines.push(`  ${label}, ${kind}s, ${n} client${n > 1 ? 's' : ''}: ${costs.join(' / ')}`);
      }
    }
  }
  return lines;
}

export async function runKvBench(opts: KvBenchOptions): Promise<void> {
  const etcd = etcdBinary();
  if (etcd === undefined) process.stderr.write('\n*** NOTICE: no `etcd` binary on the PATH: the etcd columns are skipped (apt-get install -y etcd-server) ***\n\n');
  const roundCount = opts.rounds ?? 1;
  log(`bench kv: ${opts.seconds} s per cell, ${VALUE_BYTES}-byte values, ${CLIENT_COUNTS.join('/')} clients${roundCount > 1 ? `, ${roundCount} rounds` : ''}`);
  const notes: string[] = [];
  const rounds: Results[] = [];
  for (let r = 0; r < roundCount; r++) {
    const round: Results = new Map();
    // Whichever cluster runs first meets a quieter (or busier) machine: they take turns.
    const tlsFirst = opts.tls === true && r % 2 === 1;
    if (tlsFirst) await measureTorua(opts.seconds, round, notes, true);
    await measureTorua(opts.seconds, round, notes);
    if (opts.tls === true && !tlsFirst) await measureTorua(opts.seconds, round, notes, true);
    rounds.push(round);
  }
  const results = combineRounds(rounds);
  if (etcd !== undefined) await measureEtcd(etcd, opts.seconds, results, notes);
  const out = [
    '',
    `KV data path: 3 coordinators + 3 data nodes (RF 2, 8 shards, fsync on) on loopback aliases, ${VALUE_BYTES}-byte values, closed loop, keep-alive HTTP; etcd 3-member via its v3 JSON gateway${roundCount > 1 ? `; torua cells: the median of ${roundCount} rounds` : ''}`,
    ...renderTable(results, etcd !== undefined),
    '',
    ...renderGoals(results, etcd !== undefined),
    ...(opts.tls === true ? [...renderTlsCost(results), ...tlsCostByRound(rounds)] : []),
    ...notes.map((n) => `  note: ${n}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  if (!results.has('smart client') || notes.some((n) => n.startsWith('torua'))) process.exitCode = 1;
}
