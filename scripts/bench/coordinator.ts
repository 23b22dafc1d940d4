/**
 * `npm run bench -- coordinator [--seconds S] [--kills N] [--stops N]`: real
 * Torua coordinator replicas (and, when `etcd` is on the PATH, a 3-member etcd
 * at its defaults and at our timings) measured the same way: commits/s at 1,
 * 16 and 64 writers with p50/p99, linearizable and stale reads/s at 64
 * readers, failover after SIGKILL and SIGSTOP of the leader.
 */
import { execFileSync } from 'node:child_process';
import type http from 'node:http';
import { keepAliveAgent } from './http.js';
import { log } from '../launch/log.js';
import { now, sleep } from '../launch/wait-for.js';
import { EtcdCluster, majorityLeader, memberOf, ToruaCluster, waitCaughtUp, waitForLeader, type Member, type System } from './systems.js';

export interface CoordinatorBenchOptions {
  readonly seconds: number;
  readonly kills: number;
  readonly stops: number;
  /** Also a Torua cluster with mutual TLS on every port, in the same run. */
  readonly tls?: boolean;
  /** Only this writer count (default 1, 16 and 64) and no read phase: a profile of one load. */
  readonly writers?: number;
}

interface Rate {
  readonly perSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** CPU µs per acknowledged operation: the system's processes, and this process (the clients). */
  readonly systemCpuUs?: number;
  readonly clientCpuUs?: number;
}

interface Failover {
  /** ms from the fault to the first acknowledged write sent after it (NaN: none within the bound). */
  readonly write: number;
  /** ms from the fault to a new leader reported by a majority. */
  readonly leader: number;
}

interface Results {
  readonly label: string;
  readonly writes: Map<number, Rate>;
  readonly linReads?: Rate;
  readonly staleReads?: Rate;
  readonly kills: Failover[];
  readonly stops: Failover[];
  readonly notes: string[];
}

const WRITER_COUNTS = [1, 16, 64] as const;
const READERS = 64;
/** No failover phase of one system runs longer than this. */
const FAILOVER_BUDGET_MS = 100_000;
const FAULT_BOUND_MS = 15_000;

function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** `workers` loops, each issuing `op` back to back until the deadline (and at most a bounded count). */
async function closedLoop(workers: number, seconds: number, op: (worker: number, seq: number) => Promise<boolean>): Promise<Rate> {
  const lat: number[] = [];
  let errors = 0;
  let seq = 0;
  const started = now();
  const deadline = started + seconds * 1000;
  const maxOps = 5_000_000;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (now() < deadline && seq < maxOps) {
        const t0 = now();
        const ok = await op(w, seq++);
        if (ok) lat.push(now() - t0);
        else {
          errors++;
          await sleep(5);
        }
      }
    }),
  );
  const elapsed = (now() - started) / 1000;
  lat.sort((a, b) => a - b);
  return { perSec: lat.length / elapsed, p50: pct(lat, 50), p99: pct(lat, 99), errors };
}

/** closedLoop, with the CPU the system and this process spent per acknowledged operation. */
async function measured(sys: System, workers: number, seconds: number, op: (worker: number, seq: number) => Promise<boolean>): Promise<Rate> {
  const systemBefore = sys.cpuSeconds();
  const clientBefore = process.cpuUsage();
  const started = now();
  const rate = await closedLoop(workers, seconds, op);
  const ops = (rate.perSec * (now() - started)) / 1000;
  if (ops < 1) return rate;
  const client = process.cpuUsage(clientBefore);
  return { ...rate, systemCpuUs: ((sys.cpuSeconds() - systemBefore) * 1e6) / ops, clientCpuUs: (client.user + client.system) / ops };
}

async function throughput(sys: System, seconds: number, r: { writes: Map<number, Rate>; linReads?: Rate; staleReads?: Rate }, counts: readonly number[], reads: boolean): Promise<void> {
  const leader = memberOf(sys, await waitForLeader(sys));
  for (const n of counts) {
    const agent = keepAliveAgent(n);
    // A short warm-up opens the connections.
    await closedLoop(n, Math.min(0.3, seconds), (w, s) => sys.write(agent, leader, w, s, 5_000));
    const rate = await measured(sys, n, seconds, (w, s) => sys.write(agent, leader, w, s, 5_000));
    agent.destroy();
    r.writes.set(n, rate);
    log(`${sys.label}: ${n} writer(s): ${Math.round(rate.perSec)} commits/s, p50 ${rate.p50.toFixed(2)} ms, p99 ${rate.p99.toFixed(2)} ms${rate.errors ? `, ${rate.errors} errors` : ''}`);
  }
  if (!reads) return;
  // Readers spread over the replicas (worker w → replica w mod 3), one keep-alive agent per replica.
  for (const stale of [false, true]) {
    const agents = sys.members.map(() => keepAliveAgent(READERS));
    const op = (w: number): Promise<boolean> => sys.read(agents[w % agents.length]!, sys.members[w % sys.members.length]!, w, stale, 5_000);
    await closedLoop(READERS, Math.min(0.3, seconds), op);
    const rate = await measured(sys, READERS, seconds, op);
    for (const a of agents) a.destroy();
    if (stale) r.staleReads = rate;
    else r.linReads = rate;
    log(`${sys.label}: ${READERS} readers, ${stale ? 'stale' : 'linearizable'}: ${Math.round(rate.perSec)} reads/s, p50 ${rate.p50.toFixed(2)} ms${rate.errors ? `, ${rate.errors} errors` : ''}`);
  }
}

/** Sends a write to every replica every 5 ms; keeps (sentAt, ackAt) of every acknowledged one. */
function startWriter(sys: System): { acks: Array<{ sent: number; acked: number }>; stop(): Promise<void> } {
  const agents = new Map<string, http.Agent>(sys.members.map((m) => [m.id, keepAliveAgent(512)]));
  const acks: Array<{ sent: number; acked: number }> = [];
  const inflight = new Set<Promise<void>>();
  let stopped = false;
  let seq = 0;
  const send = (m: Member): void => {
    const sent = now();
    const p = sys.write(agents.get(m.id)!, m, seq % 64, seq, 1_000).then((ok) => {
      if (ok) acks.push({ sent, acked: now() });
    });
    seq++;
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };
  const loop = (async () => {
    let next = now();
    for (let i = 0; i < 10_000_000 && !stopped; i++) {
      for (const m of sys.members) if (inflight.size < 3_000) send(m);
      next += 5;
      const wait = next - now();
      if (wait > 0) await sleep(wait);
      else next = now();
    }
  })();
  return {
    acks,
    stop: async () => {
      stopped = true;
      await loop;
      await Promise.all([...inflight]);
      for (const a of agents.values()) a.destroy();
    },
  };
}

async function oneFault(sys: System, writer: { acks: Array<{ sent: number; acked: number }> }, signal: 'SIGKILL' | 'SIGSTOP'): Promise<Failover> {
  const old = await waitForLeader(sys, undefined, 30_000);
  const from = writer.acks.length;
  const t0 = now();
  await sys.fault(old, signal);
  let leaderAt = NaN;
  let writeAt = NaN;
  for (let i = 0; i < 100_000 && now() - t0 < FAULT_BOUND_MS; i++) {
    if (Number.isNaN(leaderAt) && (await majorityLeader(sys, old, 200)) !== undefined) leaderAt = now() - t0;
    if (Number.isNaN(writeAt)) {
      for (let j = from; j < writer.acks.length; j++) {
        const a = writer.acks[j]!;
        if (a.sent >= t0 && (Number.isNaN(writeAt) || a.acked - t0 < writeAt)) writeAt = a.acked - t0;
      }
    }
    if (!Number.isNaN(leaderAt) && !Number.isNaN(writeAt)) break;
    await sleep(5);
  }
  if (signal === 'SIGSTOP') await sys.fault(old, 'SIGCONT');
  else await sys.restart(old);
  await waitCaughtUp(sys, old, 30_000);
  // Let the restarted or resumed replica's peer connections settle before the next fault.
  await sleep(300);
  return { write: writeAt, leader: leaderAt };
}

async function failovers(sys: System, opts: CoordinatorBenchOptions, r: Results): Promise<void> {
  const writer = startWriter(sys);
  const started = now();
  try {
    await sleep(300);
    for (const [signal, count, out] of [['SIGKILL', opts.kills, r.kills], ['SIGSTOP', opts.stops, r.stops]] as const) {
      for (let i = 0; i < count; i++) {
        if (now() - started > FAILOVER_BUDGET_MS) {
          r.notes.push(`${sys.label}: failover phase stopped after ${Math.round(FAILOVER_BUDGET_MS / 1000)} s (${r.kills.length} SIGKILLs, ${r.stops.length} SIGSTOPs done)`);
          return;
        }
        const f = await oneFault(sys, writer, signal);
        out.push(f);
        log(`${sys.label}: ${signal} ${i + 1}/${count}: first ack ${f.write.toFixed(0)} ms, new leader ${f.leader.toFixed(0)} ms`);
      }
    }
  } finally {
    await writer.stop();
  }
}

async function runSystem(sys: System, opts: CoordinatorBenchOptions): Promise<Results> {
  const r: Results = { label: sys.label, writes: new Map(), kills: [], stops: [], notes: [] };
  log(`${sys.label}: starting 3 replicas`);
  try {
    await sys.start();
    await throughput(sys, opts.seconds, r, opts.writers === undefined ? WRITER_COUNTS : [opts.writers], opts.writers === undefined);
    await failovers(sys, opts, r);
  } catch (e) {
    r.notes.push(`${sys.label}: stopped early: ${String(e).split('\n')[0]}`);
    log(`${sys.label}: ERROR ${String(e)}`);
  } finally {
    await sys.close();
  }
  return r;
}

// ---------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------

function etcdBinary(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v etcd'], { encoding: 'utf8', timeout: 5_000 }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const fmtN = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '—' : Math.round(n).toLocaleString('en-US'));
const fmtMs = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '—' : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0));

function stats(list: readonly Failover[], key: keyof Failover): { min: number; p50: number; p90: number; max: number; n: number; missing: number } {
  const v = list.map((f) => f[key]).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return { min: v[0] ?? NaN, p50: pct(v, 50), p90: pct(v, 90), max: v[v.length - 1] ?? NaN, n: v.length, missing: list.length - v.length };
}

interface Line {
  readonly measure: string;
  readonly values: (number | undefined)[];
  readonly unit: 'n' | 'ms';
  readonly note?: string;
}

/** CPU per operation: what a loaded machine distorts far less than operations per second (the cost of TLS shows here first). */
function cpuLines(lines: Line[], rates: readonly (Rate | undefined)[]): void {
  lines.push({ measure: `  servers' CPU µs per op`, values: rates.map((r) => r?.systemCpuUs), unit: 'n' });
  lines.push({ measure: `  clients' CPU µs per op`, values: rates.map((r) => r?.clientCpuUs), unit: 'n' });
}

export async function runCoordinatorBench(opts: CoordinatorBenchOptions): Promise<void> {
  const etcd = etcdBinary();
  const systems: System[] = [new ToruaCluster(), ...(opts.tls ? [new ToruaCluster(true)] : [])];
  if (etcd) {
    systems.push(new EtcdCluster('etcd defaults', etcd, undefined));
    systems.push(new EtcdCluster('etcd 300/50', etcd, { heartbeatMs: 50, electionMs: 300 }));
  } else {
    process.stderr.write('\n*** NOTICE: no `etcd` binary on the PATH: the etcd columns are skipped (apt-get install -y etcd-server) ***\n\n');
  }
  log(`bench coordinator: ${opts.seconds} s per measure, ${opts.kills} SIGKILLs, ${opts.stops} SIGSTOPs, ${systems.length} system(s)`);
  const results: Results[] = [];
  for (const s of systems) results.push(await runSystem(s, opts));

  const lines: Line[] = [];
  for (const n of WRITER_COUNTS) {
    lines.push({ measure: `commits/s, ${n} writer${n > 1 ? 's' : ''}`, values: results.map((r) => r.writes.get(n)?.perSec), unit: 'n' });
    lines.push({ measure: `  p50 latency ms`, values: results.map((r) => r.writes.get(n)?.p50), unit: 'ms' });
    lines.push({ measure: `  p99 latency ms`, values: results.map((r) => r.writes.get(n)?.p99), unit: 'ms' });
    cpuLines(lines, results.map((r) => r.writes.get(n)));
  }
  lines.push({ measure: `linearizable reads/s, ${READERS} readers`, values: results.map((r) => r.linReads?.perSec), unit: 'n' });
  cpuLines(lines, results.map((r) => r.linReads));
  lines.push({ measure: `stale reads/s, ${READERS} readers`, values: results.map((r) => r.staleReads?.perSec), unit: 'n' });
  cpuLines(lines, results.map((r) => r.staleReads));
  for (const [name, key] of [['SIGKILL', 'kills'], ['SIGSTOP', 'stops']] as const) {
    for (const [what, k] of [['first ack', 'write'], ['new leader', 'leader']] as const) {
      const st = results.map((r) => stats(r[key], k));
      const counts = results.map((r, i) => `${st[i]!.n}/${r[key].length}`).join(', ');
      for (const q of ['min', 'p50', 'p90', 'max'] as const) {
        lines.push({ measure: `${name} → ${what} ms, ${q}`, values: st.map((s) => s[q]), unit: 'ms', ...(q === 'min' ? { note: `n = ${counts}` } : {}) });
      }
    }
  }

  const header = ['measure', ...results.map((r) => r.label)];
  if (results.length > 1) for (const r of results.slice(1)) header.push(`torua/${r.label.replace('etcd ', '')}`);
  const rows = lines.map((l) => {
    const cells = [l.measure, ...l.values.map((v) => (l.unit === 'n' ? fmtN(v) : fmtMs(v)))];
    for (let i = 1; i < l.values.length; i++) {
      const a = l.values[0];
      const b = l.values[i];
      cells.push(a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b) || b === 0 ? '—' : `${(a / b).toFixed(2)}×`);
    }
    if (l.note) cells.push(l.note);
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const out: string[] = [];
  out.push('');
  out.push('Coordinator: 3 real replicas on loopback aliases, fsync on, REST over keep-alive HTTP; etcd 3-member via its v3 JSON gateway');
  out.push(header.map((h, i) => (i === 0 ? h.padEnd(widths[i]!) : h.padStart(widths[i]!))).join('  '));
  out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) out.push(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : i < header.length ? c.padStart(widths[i]!) : c)).join('  '));

  const t = results[0]!;
  const e = results.find((r) => r.label === 'etcd defaults');
  const k = stats(t.kills, 'write');
  const s = stats(t.stops, 'write');
  const goal = (ok: boolean | undefined): string => (ok === undefined ? 'n/a (no etcd)' : ok ? 'met' : 'NOT met');
  const w64 = t.writes.get(64)?.perSec;
  const e64 = e?.writes.get(64)?.perSec;
  const p1 = t.writes.get(1)?.p50;
  out.push('');
  out.push('Goals (torua at its defaults; failover measured to the first acknowledged write):');
  out.push(`  SIGKILL failover p50 ≤ 150 ms: ${goal(k.n > 0 ? k.p50 <= 150 : false)} (${fmtMs(k.p50)} ms)`);
  out.push(`  SIGKILL failover max ≤ 300 ms: ${goal(k.n > 0 && k.missing === 0 ? k.max <= 300 : false)} (${fmtMs(k.max)} ms${k.missing ? `, ${k.missing} without an ack in ${FAULT_BOUND_MS / 1000} s` : ''})`);
  out.push(`  SIGSTOP failover p50 ≤ 500 ms: ${goal(s.n > 0 ? s.p50 <= 500 : false)} (${fmtMs(s.p50)} ms)`);
  out.push(`  commits/s at 64 writers ≥ etcd's: ${goal(e64 === undefined || w64 === undefined ? undefined : w64 >= e64)} (${fmtN(w64)} vs ${fmtN(e64)})`);
  out.push(`  p50 ≤ 1.5 ms at 1 writer: ${goal(p1 === undefined ? false : p1 <= 1.5)} (${fmtMs(p1)} ms)`);
  const lr = t.linReads?.perSec;
  const elr = e?.linReads?.perSec;
  out.push(`  linearizable reads ≥ etcd's: ${goal(elr === undefined || lr === undefined ? undefined : lr >= elr)} (${fmtN(lr)} vs ${fmtN(elr)})`);
  const errs = results.map((r) => `${r.label}: ${[...r.writes.values(), r.linReads, r.staleReads].reduce((a, x) => a + (x?.errors ?? 0), 0)}`).join(', ');
  out.push(`  failed requests during the throughput measures: ${errs}`);
  if (!etcd) out.push('  NOTICE: no etcd on the PATH — no etcd columns, ratios or etcd goals.');
  for (const r of results) for (const n of r.notes) out.push(`  note: ${n}`);
  process.stdout.write(`${out.join('\n')}\n`);
}
