/**
 * npm run bench -- fleet [--nodes N] [--dead D] [--seconds S | --minutes M] [--json]
 *
 * What one coordinator leader costs per data node, and whether Raft keeps
 * its time under that load: 3 real coordinator replicas and one fleet
 * process (fleet-process.ts) that impersonates N live data nodes (register,
 * renew leases every quarter lease through `nodes.renewLease`, answer
 * `/health`) and D dead ones (registered at a closed port). Once every live
 * node is healthy it measures, for S seconds with a writer proposing label
 * changes through the leader:
 *
 * - the leader process's CPU (/proc/<pid>/stat, utime + stime);
 * - the interval between two probes of one node, as the fleet saw them;
 * - the followers' longest gap without a message from the leader;
 * - leader changes (must be 0) and failure decisions (must be 0);
 *
 * then the leader's CPU for a few seconds without the writer (the nodes'
 * own cost, which the goal of 25 % of a core at 1,000 nodes is about),
 * then hangs one live node (no more answers, no more renewals) and times
 * until the table says it is unhealthy. `--json` ends the output with one
 * line of JSON (the integration test reads it).
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataCluster, type Endpoint } from './data-cluster.js';
import { parseJson, request } from './http.js';
import { log } from '../launch/log.js';
import { now, sleep, waitFor } from '../launch/wait-for.js';
import { cpuSecondsOf as cpuSeconds, type Child } from '../launch/child.js';
import { freePort } from '../launch/ports.js';

const FLEET_JS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fleet-process.js');
const READ_TIMEOUT_MS = 2_000;
const WRITE_TIMEOUT_MS = 5_000;
/** The writer's pause between two label writes: a steady trickle, not a flood. */
const WRITE_PAUSE_MS = 20;
/** Followers' gap histogram bounds (seconds) worth reporting. */
const GAP_REPORT_BOUNDS = ['0.1', '0.2', '0.3'];
/** The window after the main one, without the writer (what the goal of 25 % at 1,000 nodes is about). */
const NODES_ONLY_SECONDS = 5;
/** The size the CPU goal is stated for. */
const GOAL_NODES = 1_000;

export interface FleetBenchOptions {
  readonly nodes: number;
  readonly dead: number;
  readonly seconds: number;
  readonly json: boolean;
  /** The cluster's shard count (default 8): grants carry each node's shards, so a realistic table (4,096 at 1,000 nodes) costs more per renewal. */
  readonly shards?: number;
}

export interface FleetReport {
  readonly nodes: number;
  readonly shards: number;
  readonly dead: number;
  readonly seconds: number;
  readonly registerSeconds: number;
  /** With the bench's label writer running: the window's figure. */
  readonly leaderCpuPercent: number;
  readonly leaderCpuPerNodeUs: number;
  /** Right after the window, the writer stopped: what the nodes cost the leader (plus Raft's idle heartbeats). */
  readonly leaderCpuNodesOnlyPercent: number;
  readonly probeIntervalMs: { readonly p1: number | null; readonly p50: number | null; readonly p99: number | null; readonly max: number | null; readonly count: number };
  /** Between two grants of one node: the leader's proof of life when renewals replace probes. */
  readonly renewalIntervalMs: FleetReport['probeIntervalMs'];
  readonly probesPerSecond: number;
  readonly renewalsPerSecond: number;
  readonly renewalsFailed: number;
  /** The fleet process's own CPU: on a small machine it competes with the leader. */
  readonly fleetCpuPercent: number;
  /** Each follower's CPU (they take the nodes' renewal calls and relay them in batches): the rest of the cluster's cost. */
  readonly followerCpuPercent: readonly number[];
  readonly followerMaxGapMs: number;
  /** The leader's longest event loop delay in the window (what holds Raft's tick back). */
  readonly leaderLoopDelayMaxMs: number;
  readonly followerGapsOver: Record<string, number>;
  readonly leaderChanges: number;
  readonly falseDecisions: number;
  readonly writes: number;
  readonly writeErrors: number;
  readonly writeP99Ms: number | null;
  /** null: no node was hung (the storm guard would hold its decision). */
  readonly hungNode: string | null;
  readonly detectMs: number | null;
  readonly decisionsAfterHang: number;
}

class FleetCluster extends DataCluster {
  fleet: Child | undefined;
  controlPort = 0;

  constructor(shards: number | undefined) {
    // TORUA_FLEET_CPU_PROF=<dir>: every coordinator (and the fleet) writes a CPU profile there when it exits (SIGTERM, see close).
    const profDir = process.env['TORUA_FLEET_CPU_PROF'];
    super({ name: 'fleet', nodeHostBase: 0, nodeCount: 0, startTimeoutMs: 30_000, ...(shards === undefined ? {} : { shards }), coordinatorNodeArgs: profDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
      // TORUA_FLEET_SETTINGS='{"health":{…}}': other initial settings, for experiments.
      ...(process.env['TORUA_FLEET_SETTINGS'] === undefined ? {} : { settings: JSON.parse(process.env['TORUA_FLEET_SETTINGS']) as Record<string, unknown> }),
    });
  }

  async start(fleetArgs: (coordinators: string) => string[]): Promise<void> {
    await this.startProcesses();
    this.controlPort = await freePort('127.0.0.1');
    const list = this.coordinators.map((c) => `${c.host}:${c.port}`).join(',');
    const profDir = process.env['TORUA_FLEET_CPU_PROF'];
    const prof = profDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`];
    this.fleet = this.group!.start({
      name: 'fleet',
      command: process.execPath,
      args: [...prof, FLEET_JS, '--coordinators', list, '--control-port', String(this.controlPort), ...fleetArgs(list)],
      env: { NODE_OPTIONS: '' },
    });
  }

  /** Copies the processes' logs out of the temporary directory (removed on close); returns where. */
  async keepLogs(): Promise<string> {
    const to = path.join(os.tmpdir(), `torua-fleet-logs-${Date.now()}`);
    await this.copyLogs(to);
    return to;
  }

  pidOf(id: string): number | undefined {
    return this.childOf(id)?.pid;
  }

  async get<T>(c: Endpoint, urlPath: string): Promise<T | undefined> {
    const a = await request(false, c.host, c.port, 'GET', urlPath, undefined, READ_TIMEOUT_MS);
    return a.status === 200 ? (parseJson(a.text) as T | undefined) : undefined;
  }

  async fleetCall<T>(method: 'GET' | 'POST', urlPath: string): Promise<T> {
    const a = await request(false, '127.0.0.1', this.controlPort, method, urlPath, undefined, 10_000);
    if (a.status !== 200) throw new Error(`fleet ${method} ${urlPath}: ${a.status} ${a.text.slice(0, 200)}`);
    return parseJson(a.text) as T;
  }

  /** The coordinator every replica that answers names as leader, when they agree. */
  async leader(): Promise<{ readonly endpoint: Endpoint; readonly term: number } | undefined> {
    const views = await Promise.all(this.coordinators.map((c) => this.get<{ role: string; leader: string; term: number }>(c, '/health')));
    const leader = views.find((v) => v?.role === 'leader');
    if (leader === undefined) return undefined;
    const endpoint = this.coordinators.find((c) => c.id === leader.leader);
    return endpoint === undefined ? undefined : { endpoint, term: leader.term };
  }

  async metrics(c: Endpoint): Promise<string> {
    const a = await request(false, c.host, c.port, 'GET', '/metrics', undefined, READ_TIMEOUT_MS);
    return a.status === 200 ? a.text : '';
  }

  /** Per coordinator: synced writes in all, and how many took over 250 ms and over 1 s (a leader's heartbeats wait behind its write). */
  async slowPersists(): Promise<string> {
    const P = 'torua_raft_persist_duration_seconds';
    const texts = await Promise.all(this.coordinators.map((c) => this.metrics(c)));
    return this.coordinators
      .map((c, i) => {
        const t = texts[i]!;
        const all = sample(t, `${P}_count`);
        return `${c.id}: ${all} writes, ${all - sample(t, `${P}_bucket`, { le: '0.25' })} over 250 ms, ${all - sample(t, `${P}_bucket`, { le: '1' })} over 1 s`;
      })
      .join('; ');
  }

  tails(): Promise<string> {
    return this.logTails([...this.coordinators.map((c) => c.id), 'fleet'], 8);
  }
}

interface FleetStats {
  readonly registered: number;
  readonly ready: boolean;
  readonly failure: string | null;
  readonly windowMs: number;
  readonly renewalsOk: number;
  readonly renewalsFailed: number;
  readonly failureReasons: Record<string, number>;
  readonly cpuSeconds: number;
  readonly probes: number;
  readonly probeIntervalMs: FleetReport['probeIntervalMs'];
  readonly renewalIntervalMs: FleetReport['probeIntervalMs'];
}

/** One sample of a metric in Prometheus text, whatever other labels it carries (`replica`…), with every label of `labels`. */
function sample(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (!Object.entries(labels).every(([k, v]) => rest.includes(`${k}="${v}"`))) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) return v;
  }
  return 0;
}

const GAP = 'torua_raft_leader_contact_gap_seconds';

/** Label writes through the leader until `stop()`; latencies kept. */
function startWriter(leader: Endpoint, nodeId: string): { stop(): Promise<{ ok: number; errors: number; latenciesMs: number[] }> } {
  let running = true;
  const latenciesMs: number[] = [];
  let errors = 0;
  const loop = (async () => {
    for (let i = 0; running && i < 1_000_000; i++) {
      const t = now();
      const a = await request(false, leader.host, leader.port, 'PUT', `/nodes/${nodeId}/labels`, { labels: { bench: String(i) } }, WRITE_TIMEOUT_MS);
      if (a.status === 200) latenciesMs.push(now() - t);
      else errors++;
      await sleep(WRITE_PAUSE_MS);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { ok: latenciesMs.length, errors, latenciesMs };
    },
  };
}

async function failureDecisions(cluster: FleetCluster, c: Endpoint): Promise<number> {
  return sample(await cluster.metrics(c), 'torua_failure_decisions_total', { outcome: 'committed' });
}

export async function measureFleet(opts: FleetBenchOptions): Promise<FleetReport> {
  const cluster = new FleetCluster(opts.shards);
  try {
    log(`fleet: starting 3 coordinators (${cluster.shardCount} shards) and a fleet of ${opts.nodes} live + ${opts.dead} dead nodes`);
    const t0 = now();
    await cluster.start(() => ['--nodes', String(opts.nodes), '--dead', String(opts.dead)]);
    const first = await waitFor('a leader', () => cluster.leader(), { timeoutMs: 30_000, intervalMs: 20 });
    const registerTimeoutMs = 60_000 + (opts.nodes + opts.dead) * 60;
    await waitFor(
      'the fleet to register',
      async () => {
        const s = await cluster.fleetCall<FleetStats>('GET', '/stats');
        if (s.failure !== null) throw new Error(`fleet failed: ${s.failure}`);
        return s.ready ? s : undefined;
      },
      { timeoutMs: registerTimeoutMs, intervalMs: 500 },
    );
    const registerSeconds = (now() - t0) / 1000;
    log(`fleet: registered after ${registerSeconds.toFixed(1)} s; waiting for every live node to be healthy`);
    await waitFor(
      'every live node healthy',
      async () => {
        const info = await cluster.get<{ healthy_nodes: number }>(first.endpoint, '/cluster/info');
        return info !== undefined && info.healthy_nodes >= opts.nodes ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    // A large table is still being placed now (32 copies a round): what is measured is the fleet at rest, so
    // wait until the table stops changing (no commit for 2 s; renewals and probes commit nothing).
    const placedSince = now();
    let lastCommit = -1;
    let stillSince = now();
    await waitFor(
      'placement to settle (no commit for 2 s)',
      async () => {
        const info = await cluster.get<{ commit_index: number }>(first.endpoint, '/cluster/info');
        if (info === undefined) return undefined;
        if (info.commit_index !== lastCommit) (lastCommit = info.commit_index), (stillSince = now());
        return now() - stillSince >= 2_000 ? true : undefined;
      },
      { timeoutMs: 600_000, intervalMs: 250 },
    );
    if (now() - placedSince > 5_000) log(`fleet: placement settled after ${((now() - placedSince) / 1000).toFixed(0)} s`);
    // Settle: leases renewed, the first probes of every node done.
    await sleep(3_000);
    const leader = await waitFor('a leader', () => cluster.leader(), { timeoutMs: 10_000, intervalMs: 20 });
    if (leader.endpoint.id !== first.endpoint.id) log(`fleet: the leader changed during registration (${first.endpoint.id} → ${leader.endpoint.id})`);
    const pid = cluster.pidOf(leader.endpoint.id)!;
    const followers = cluster.coordinators.filter((c) => c.id !== leader.endpoint.id);
    const gapBefore = await Promise.all(followers.map((f) => cluster.metrics(f)));
    const decisionsBefore = await failureDecisions(cluster, leader.endpoint);
    const fleetBefore = await cluster.fleetCall<FleetStats>('GET', '/stats?reset=1');
    const followerPids = followers.map((f) => cluster.pidOf(f.id)!);
    const followerCpu0 = followerPids.map(cpuSeconds);
    const cpu0 = cpuSeconds(pid);
    const w0 = now();
    log(`fleet: measuring for ${opts.seconds} s (leader ${leader.endpoint.id}, pid ${pid})`);
    const writer = startWriter(leader.endpoint, 'f1');
    const progressEveryMs = 60_000;
    for (let waited = 0; waited < opts.seconds * 1000; waited += progressEveryMs) {
      await sleep(Math.min(progressEveryMs, opts.seconds * 1000 - waited));
      if (opts.seconds > 90) log(`fleet: ${Math.round((now() - w0) / 1000)} s of ${opts.seconds} s`);
    }
    const cpu1 = cpuSeconds(pid);
    const followerCpu1 = followerPids.map(cpuSeconds);
    const elapsedS = (now() - w0) / 1000;
    const stats = await cluster.fleetCall<FleetStats>('GET', '/stats');
    const written = await writer.stop();
    const cpuQuiet0 = cpuSeconds(pid);
    const q0 = now();
    await sleep(NODES_ONLY_SECONDS * 1000);
    const leaderCpuNodesOnlyPercent = ((cpuSeconds(pid) - cpuQuiet0) / ((now() - q0) / 1000)) * 100;
    if (stats.renewalsFailed > 0) log(`fleet: renewals failed: ${JSON.stringify(stats.failureReasons)}`);
    const fleetCpuPercent = ((stats.cpuSeconds - fleetBefore.cpuSeconds) / elapsedS) * 100;
    const gapAfter = await Promise.all(followers.map((f) => cluster.metrics(f)));
    const leaderMetrics = await cluster.metrics(leader.endpoint);
    const decisionsAfter = sample(leaderMetrics, 'torua_failure_decisions_total', { outcome: 'committed' });
    // prom-client resets the event loop delay histogram at each scrape: this is the window's (decisionsBefore scraped it).
    const leaderLoopDelayMaxMs = sample(leaderMetrics, 'nodejs_eventloop_lag_max_seconds') * 1000;
    // A busy leader may answer /health late: asked again for a while before it counts as gone.
    const still = await waitFor('the leader after the window', () => cluster.leader(), { timeoutMs: 15_000, intervalMs: 200 }).catch(() => undefined);
    // Every election raises the term (the replicas' metrics would miss one a busy replica did not answer).
    const leaderChanges = still === undefined ? 1 : Math.max(still.term - leader.term, still.endpoint.id === leader.endpoint.id ? 0 : 1);
    const followerGapsOver: Record<string, number> = {};
    for (const le of GAP_REPORT_BOUNDS) {
      const over = (t: string) => sample(t, `${GAP}_count`) - sample(t, `${GAP}_bucket`, { le });
      followerGapsOver[`${Number(le) * 1000}ms`] = followers.reduce((s, _, i) => s + over(gapAfter[i]!) - over(gapBefore[i]!), 0);
    }
    const followerMaxGapMs = Math.max(...gapAfter.map((t) => sample(t, 'torua_raft_leader_contact_gap_max_seconds') * 1000));
    const sorted = [...written.latenciesMs].sort((a, b) => a - b);

    // Detection: one live node hangs (no answers, no renewals).
    // With more nodes down than the storm guard lets be decided, no hung node can be: nothing to time.
    const stormHolds = opts.dead >= 0.5 * (opts.nodes + opts.dead);
    const hungNode = opts.nodes > 0 && !stormHolds ? `f${opts.nodes}` : null;
    let detectMs: number | null = null;
    let decisionsAfterHang = 0;
    if (hungNode !== null && still !== undefined) {
      await cluster.fleetCall('POST', `/hang/${hungNode}`);
      const h0 = now();
      await waitFor(
        `${hungNode} declared unhealthy`,
        async () => ((await cluster.get<{ status: string }>(still.endpoint, `/nodes/${hungNode}/info`))?.status === 'unhealthy' ? true : undefined),
        { timeoutMs: 30_000, intervalMs: 20 },
      ).then(
        () => (detectMs = now() - h0),
        (e: unknown) => log(`fleet: ${String(e)}`),
      );
      decisionsAfterHang = (await failureDecisions(cluster, still.endpoint)) - decisionsAfter;
    }
    const cpuPercent = ((cpu1 - cpu0) / elapsedS) * 100;
    log(`fleet: synced writes since start: ${await cluster.slowPersists()}`);
    if (leaderChanges !== 0 || decisionsAfter !== decisionsBefore || process.env['TORUA_FLEET_KEEP_LOGS'] !== undefined) log(`fleet: logs kept in ${await cluster.keepLogs()}`);
    return {
      nodes: opts.nodes,
      shards: cluster.shardCount,
      dead: opts.dead,
      seconds: Math.round(elapsedS),
      registerSeconds,
      leaderCpuPercent: cpuPercent,
      leaderCpuPerNodeUs: opts.nodes + opts.dead === 0 ? 0 : ((cpu1 - cpu0) / elapsedS / (opts.nodes + opts.dead)) * 1e6,
      leaderCpuNodesOnlyPercent,
      probeIntervalMs: stats.probeIntervalMs,
      renewalIntervalMs: stats.renewalIntervalMs,
      probesPerSecond: stats.probes / (stats.windowMs / 1000),
      renewalsPerSecond: stats.renewalsOk / (stats.windowMs / 1000),
      renewalsFailed: stats.renewalsFailed,
      fleetCpuPercent,
      followerCpuPercent: followerCpu1.map((c, i) => ((c - followerCpu0[i]!) / elapsedS) * 100),
      followerMaxGapMs,
      leaderLoopDelayMaxMs,
      followerGapsOver,
      leaderChanges,
      falseDecisions: decisionsAfter - decisionsBefore,
      writes: written.ok,
      writeErrors: written.errors,
      writeP99Ms: sorted.length === 0 ? null : sorted[Math.floor(0.99 * (sorted.length - 1))]!,
      hungNode,
      detectMs,
      decisionsAfterHang,
    };
  } catch (e) {
    log(`fleet: failed: ${e instanceof Error ? e.message : String(e)}\n${await cluster.tails()}`);
    if (cluster.controlPort !== 0) {
      const s = await cluster.fleetCall<FleetStats>('GET', '/stats').catch(() => undefined);
      if (s !== undefined) log(`fleet: the fleet's view: ${s.renewalsOk} renewals granted, ${s.renewalsFailed} failed, ${s.probes} probes answered; failures: ${JSON.stringify(s.failureReasons).slice(0, 2_000)}`);
    }
    log(`fleet: synced writes: ${await cluster.slowPersists().catch(() => 'unknown')}`);
    log(`fleet: logs kept in ${await cluster.keepLogs()}`);
    throw e;
  } finally {
    if (cluster.fleet !== undefined && cluster.controlPort !== 0) await cluster.fleetCall('POST', '/stop').catch(() => undefined);
    await cluster.close();
  }
}

const ms = (v: number | null): string => (v === null ? '—' : v.toFixed(0));

export async function runFleetBench(opts: FleetBenchOptions): Promise<void> {
  const r = await measureFleet(opts);
  const rows: [string, string, string][] = [
    ['leader CPU', `${r.leaderCpuPercent.toFixed(1)} %`, `of one core, with the label writer; ${r.leaderCpuPerNodeUs.toFixed(0)} µs per node per second`],
    ['leader CPU without the writer', `${r.leaderCpuNodesOnlyPercent.toFixed(1)} %`, `of one core, the ${NODES_ONLY_SECONDS} s after the window: the nodes' renewals and probes, and Raft`],
    ['probes/s (live nodes)', r.probesPerSecond.toFixed(0), `renewals/s ${r.renewalsPerSecond.toFixed(0)}, ${r.renewalsFailed} failed; the fleet itself used ${r.fleetCpuPercent.toFixed(0)} % of a core`],
    ['followers CPU', r.followerCpuPercent.map((c) => `${c.toFixed(1)} %`).join(', '), 'each of one core: they take the renewal calls and relay them in batches'],
    ['probe interval p50 / p99', `${ms(r.probeIntervalMs.p50)} / ${ms(r.probeIntervalMs.p99)} ms`, `p1 ${ms(r.probeIntervalMs.p1)} ms, max ${ms(r.probeIntervalMs.max)} ms over ${r.probeIntervalMs.count} intervals`],
    ['renewal interval p50 / p99', `${ms(r.renewalIntervalMs.p50)} / ${ms(r.renewalIntervalMs.p99)} ms`, `max ${ms(r.renewalIntervalMs.max)} ms over ${r.renewalIntervalMs.count} intervals (a node renews every quarter lease)`],
    ['followers: longest gap without the leader', `${r.followerMaxGapMs.toFixed(0)} ms`, `gaps over 100/200/300 ms in the window: ${Object.values(r.followerGapsOver).join(' / ')}`],
    ['leader: longest event loop delay', `${r.leaderLoopDelayMaxMs.toFixed(0)} ms`, 'in the window; Raft ticks every 10 ms, followers elect after 300–600 ms'],
    ['leader changes', String(r.leaderChanges), 'must be 0'],
    ['false failure decisions', String(r.falseDecisions), 'must be 0'],
    ['writer (label writes via the leader)', `${r.writes}`, `${r.writeErrors} errors, p99 ${ms(r.writeP99Ms)} ms`],
    r.hungNode === null
      ? ['detect one hung node', '—', 'not tried: the storm guard holds every decision with this many nodes down']
      : ['detect one hung node', `${ms(r.detectMs)} ms`, `${r.hungNode}; other decisions meanwhile: ${Math.max(0, r.decisionsAfterHang - 1)}`],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  process.stdout.write(`\nfleet: ${r.nodes} live + ${r.dead} dead nodes on one leader, ${r.shards} shards, ${r.seconds} s (registered in ${r.registerSeconds.toFixed(0)} s)\n`);
  for (const [a, b, c] of rows) process.stdout.write(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}\n`);
  const ok = r.leaderChanges === 0 && r.falseDecisions === 0 && (r.hungNode === null || r.detectMs !== null);
  const cpuGoal =
    r.nodes < GOAL_NODES
      ? `not judged at ${r.nodes} live nodes`
      : `${r.leaderCpuPercent <= 25 ? 'met' : 'NOT met'} with the writer (${r.leaderCpuPercent.toFixed(1)} %), ${r.leaderCpuNodesOnlyPercent <= 25 ? 'met' : 'NOT met'} without (${r.leaderCpuNodesOnlyPercent.toFixed(1)} %)`;
  process.stdout.write(`\ngoal: no leader change, no false decision, the hung node detected — ${ok ? 'met' : 'NOT met'}; leader CPU ≤ 25 % at ${GOAL_NODES.toLocaleString('en-US')} nodes — ${cpuGoal}\n`);
  if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  if (!ok) process.exitCode = 1;
}
