/**
 * A harness for integration tests against real coordinator processes
 * (DESIGN.md §8): it writes a temporary cluster file for replicas on loopback
 * aliases (127.0.0.11, .12, … on free ports; DESIGN.md §1), starts each
 * replica from the compiled code (`dist/`) with execa, and gives tests the
 * faults and observations they need: SIGKILL/SIGTERM, SIGSTOP/SIGCONT,
 * restart, wipe, packet-filter partitions (iptables, root only), leader
 * discovery, a steady writer, a term→leader monitor and convergence checks.
 *
 * Every child is a child of the launcher (scripts/launch): tracked by PID,
 * its stdout/stderr lines kept (the last few hundred in memory, all of them
 * in a log file) so a failing test can print what each replica said.
 * `close()` resumes stopped children, kills every child by PID, deletes
 * exactly the iptables rules it added and removes its temporary directory;
 * `useClusters()` calls it after every test, failed or not, and prints the
 * diagnostics of a failed one.
 *
 * Waits are condition polls with generous deadlines, never fixed sleeps.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { request } from '../../scripts/bench/http.js';
import type { Child, Exit } from '../../scripts/launch/child.js';
import { LaunchGroup } from '../../scripts/launch/group.js';
import { canBindAll, loopbackAlias } from '../../scripts/launch/ports.js';
import { layoutCoordinators, layoutNodes, MAIN_JS, REPO_ROOT, toruaChild, writeClusterFile, type ClusterFile, type CoordinatorSpec, type NodeSpec } from '../../scripts/launch/torua-cluster-file.js';
import { now, sleep } from '../../scripts/launch/wait-for.js';
import { afterAll, afterEach, beforeEach } from 'vitest';
import { waitFor as waitForState, type WaitOptions } from './wait-for.js';

export { MAIN_JS, REPO_ROOT };
export { freePort } from '../../scripts/launch/ports.js';
export { now, sleep };
export type { NodeSpec };

/** One loopback alias per replica: Linux routes all of 127/8 on `lo`, no setup needed. */
export const LOOPBACK_ALIASES = ['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14', '127.0.0.15'] as const;

// ---------------------------------------------------------------------------
// Environment checks
// ---------------------------------------------------------------------------

/** Whether every alias can be bound (checked once per worker). */
let aliasesChecked: Promise<boolean> | undefined;
export function loopbackAliasesUsable(): Promise<boolean> {
  aliasesChecked ??= canBindAll(LOOPBACK_ALIASES);
  return aliasesChecked;
}

/** Why partition tests cannot run here, or undefined when they can (root and a working `iptables`); the chaos run asks the same. */
export { partitionUnsupportedReason } from '../../scripts/chaos/firewall.js';

/** The compiled code must exist; a source newer than its output is reported (the test runs what was built). */
export function checkBuilt(): void {
  if (!fs.existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` before the integration tests`);
  const stale: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        const out = path.join(REPO_ROOT, 'dist', path.relative(REPO_ROOT, p)).replace(/\.ts$/, '.js');
        if (!fs.existsSync(out) || fs.statSync(out).mtimeMs + 1 < fs.statSync(p).mtimeMs) stale.push(path.relative(REPO_ROOT, p));
      }
    }
  };
  walk(path.join(REPO_ROOT, 'src'));
  if (stale.length > 0) {
    console.warn(`cluster-harness: dist/ is older than ${stale.length} source file(s) (${stale.slice(0, 5).join(', ')}${stale.length > 5 ? ', …' : ''}); run \`npm run build\``);
  }
}

// ---------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------

/** waitFor for real processes: 30 s by default, polled every 25 ms. */
export function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, opts: WaitOptions = {}): Promise<T> {
  return waitForState(what, probe, { timeoutMs: 30_000, intervalMs: 25, ...opts });
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(values: readonly number[]): { n: number; min: number; p50: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, min: s[0] ?? NaN, p50: percentile(s, 50), max: s[s.length - 1] ?? NaN };
}

// ---------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------

export interface HttpAnswer<T = any> {
  /** 0 when there was no answer (refused, reset, timed out). */
  readonly status: number;
  readonly body: T;
  readonly error?: string;
}

/** One request on a fresh connection (no pooled socket to a killed or stopped process). */
export async function httpRequest(host: string, port: number, method: string, urlPath: string, body?: unknown, timeoutMs = 3_000): Promise<HttpAnswer> {
  const a = await request(false, host, port, method, urlPath, body, timeoutMs);
  if (a.status === 0) return { status: 0, body: undefined, error: a.text === 'timeout' ? `timeout after ${timeoutMs} ms` : a.text };
  let parsed: unknown = a.text;
  try {
    parsed = a.text === '' ? undefined : JSON.parse(a.text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: a.status, body: parsed };
}

// ---------------------------------------------------------------------------
// The cluster
// ---------------------------------------------------------------------------

export type MemberSpec = CoordinatorSpec;

/** Where made-up nodes "live": nothing listens on the discard port, so a probe is refused at once. */
export const MADE_UP_NODE_ADDRESS = '127.0.0.1:9';

/**
 * A cluster without data nodes exists to test the coordinators; the nodes it
 * registers are made up. Probing hundreds of them four times a second would
 * load the machine the failover tests measure on, so such clusters probe
 * once a minute (the lease must outlast interval + timeout).
 */
const COORDINATOR_ONLY_HEALTH = { probeIntervalMs: 60_000, probeTimeoutMs: 1_000, backoffMaxMs: 60_000, leaseMs: 62_000 };

/** The first data node's alias; node i gets 127.0.0.(21 + i). */
const NODE_ALIAS_BASE = 21;
export const MAX_NODES = 9;

/** GET /health (DESIGN.md §7). */
export interface Health {
  readonly status: string;
  readonly id: string;
  readonly role: 'follower' | 'preCandidate' | 'candidate' | 'leader';
  readonly leader: string | null;
  readonly term: number;
  readonly commit_index: number;
  readonly applied_index: number;
  readonly state_hash: string;
}

export interface ClusterOptions {
  /** Names the temporary directory and the cluster id. */
  readonly name: string;
  /** Bootstrap voters (c1…cN), listed in the cluster file. Default 3. */
  readonly voters?: number;
  /** Replicas listed only in the join file (c4, …), started with `--join` and added through the API. */
  readonly spares?: number;
  /** The file's `raft` section. */
  readonly raft?: Readonly<Record<string, number>>;
  readonly logLevel?: ClusterFile['logLevel'];
  /** Data nodes n1…nN in the file (default 0). */
  readonly nodes?: number;
  readonly nodeCapacity?: number;
  /** The file's labels of data node i (n1 is 0), e.g. its zone. */
  readonly nodeLabels?: (index: number) => Readonly<Record<string, string>>;
  readonly shards?: number;
  readonly replicationFactor?: number;
  /** The file's `settings` (initial replicated settings, e.g. `{ health: { leaseMs: 1000 } }`). */
  readonly settings?: Readonly<Record<string, unknown>>;
  /** The file's `notifications` section (e.g. `{ webhookUrl: 'http://127.0.0.1:PORT/hook' }`). */
  readonly notifications?: Readonly<Record<string, unknown>>;
}

type ProcState = 'down' | 'running' | 'stopped';

export interface LeaderQuery {
  /** The voter set (default: the cluster's current one, `Cluster.voters`). */
  readonly voters?: readonly string[];
  /** Leaders that do not count (the one just killed). */
  readonly exclude?: readonly string[];
  readonly minTerm?: number;
  /** Every running voter must name the leader, not just a majority. */
  readonly all?: boolean;
}

export interface LeaderClaim {
  readonly term: number;
  readonly leader: string;
  /** Who said so: the replica itself ("became leader" in its log, or role leader in /health) or a follower's /health. */
  readonly by: string;
  readonly source: 'log' | 'health';
  readonly atMs: number;
}

type ProcSpec = ({ readonly kind: 'coordinator' } & MemberSpec) | ({ readonly kind: 'node' } & NodeSpec);

/** A replica or node: its launcher child and what this harness reads from its log. */
interface ReplicaProcess {
  readonly spec: ProcSpec;
  readonly child: Child;
  /** "coordinator ready" seen in this life. */
  ready: boolean;
  /** Outbound peer connections of this life, from its log: peer → open. */
  readonly outbound: Map<string, boolean>;
}

/** Every rule any harness of this process added and has not deleted yet, deleted at exit if need be. */
const liveRules = new Set<string>();
process.once('exit', () => {
  for (const r of liveRules) {
    try {
      execFileSync('iptables', ['-D', ...(JSON.parse(r) as string[])], { stdio: 'ignore', timeout: 5_000 });
    } catch {
      /* already gone */
    }
  }
});

export class Cluster {
  readonly dir: string;
  readonly file: string;
  /** Bootstrap voters and spares. */
  readonly file4join: string;
  readonly members: readonly MemberSpec[];
  readonly nodes: readonly NodeSpec[];
  /** The voters as the test believes them to be (updated by the membership helpers). */
  voters: string[];
  readonly claims: LeaderClaim[] = [];
  /** Snapshots installed from the leader, per replica (from the logs). */
  readonly snapshotsInstalled = new Map<string, number>();
  /** Leaders that stepped down because a log write took longer than the stall limit (from the logs). */
  readonly storeStalls: string[] = [];
  private readonly procs = new Map<string, ReplicaProcess>();
  private readonly rules: string[][] = [];
  private closed = false;

  private constructor(readonly name: string, private readonly group: LaunchGroup, members: MemberSpec[], nodes: NodeSpec[], voters: string[], private readonly opts: ClusterOptions) {
    this.dir = group.dir;
    this.file = path.join(this.dir, 'cluster.json');
    this.file4join = path.join(this.dir, 'cluster-join.json');
    this.members = members;
    this.nodes = nodes;
    this.voters = voters;
    const specs: ProcSpec[] = [...members.map((m) => ({ kind: 'coordinator' as const, ...m })), ...nodes.map((n) => ({ kind: 'node' as const, ...n }))];
    for (const spec of specs) {
      const p: ReplicaProcess = { spec, child: group.add(toruaChild(spec.id, this.args(spec, {}), { cwd: this.dir })), ready: false, outbound: new Map() };
      p.child.onLine((line) => this.onLine(p, line));
      this.procs.set(spec.id, p);
    }
  }

  private args(spec: ProcSpec, opts: { join?: boolean; main?: string }): string[] {
    // `main`: another copy of the build (a rolling upgrade's next version).
    const args = [opts.main ?? MAIN_JS, spec.kind, '--config', opts.join ? this.file4join : this.file, '--id', spec.id];
    if (opts.join) args.push('--join');
    return args;
  }

  /** Writes the files (nothing started yet). */
  static async create(opts: ClusterOptions): Promise<Cluster> {
    checkBuilt();
    if (!(await loopbackAliasesUsable())) throw new Error(`cannot bind the loopback aliases ${LOOPBACK_ALIASES.join(', ')}`);
    const voters = opts.voters ?? 3;
    const total = voters + (opts.spares ?? 0);
    if (total > LOOPBACK_ALIASES.length) throw new Error(`at most ${LOOPBACK_ALIASES.length} replicas`);
    const nodeCount = opts.nodes ?? 0;
    if (nodeCount > MAX_NODES) throw new Error(`at most ${MAX_NODES} data nodes`);
    const members = await layoutCoordinators(total, (i) => LOOPBACK_ALIASES[i]!);
    const nodes = await layoutNodes(nodeCount, (i) => loopbackAlias(NODE_ALIAS_BASE + i), { capacity: opts.nodeCapacity ?? 16, ...(opts.nodeLabels === undefined ? {} : { labels: opts.nodeLabels }) });
    const group = await LaunchGroup.create({ prefix: `torua-it-${opts.name}-` });
    const c = new Cluster(opts.name, group, members, nodes, members.slice(0, voters).map((m) => m.id), opts);
    await c.writeFile(c.file, members.slice(0, voters));
    await c.writeFile(c.file4join, members);
    return c;
  }

  private async writeFile(file: string, coordinators: readonly MemberSpec[]): Promise<void> {
    await writeClusterFile(file, {
      clusterId: `it-${this.name}`.slice(0, 64),
      dataDir: path.join(this.dir, 'data'),
      shards: this.opts.shards ?? 8,
      replicationFactor: this.opts.replicationFactor ?? 2,
      coordinators: [...coordinators],
      nodes: [...this.nodes],
      ...(this.opts.settings !== undefined ? { settings: this.opts.settings } : this.nodes.length === 0 ? { settings: { health: COORDINATOR_ONLY_HEALTH } } : {}),
      ...(this.opts.notifications === undefined ? {} : { notifications: this.opts.notifications }),
      raft: this.opts.raft ?? {},
      logLevel: this.opts.logLevel ?? 'info',
    });
  }

  /** Rewrites the join file (`--join` replicas read it) to list exactly these members. */
  async writeJoinFile(ids: readonly string[]): Promise<void> {
    await this.writeFile(this.file4join, ids.map((id) => this.member(id)));
  }

  member(id: string): MemberSpec {
    const p = this.procs.get(id);
    if (!p || p.spec.kind !== 'coordinator') throw new Error(`no replica ${id}`);
    const { kind: _kind, ...spec } = p.spec;
    return spec;
  }

  node(id: string): NodeSpec {
    const p = this.procs.get(id);
    if (!p || p.spec.kind !== 'node') throw new Error(`no data node ${id}`);
    const { kind: _kind, ...spec } = p.spec;
    return spec;
  }

  /** `host:port` of a data node. */
  nodeAddress(id: string): string {
    const n = this.node(id);
    return `${n.host}:${n.port}`;
  }

  private proc(id: string): ReplicaProcess {
    const p = this.procs.get(id);
    if (!p) throw new Error(`no replica or node ${id}`);
    return p;
  }

  dataDirOf(id: string): string {
    return path.join(this.dir, 'data', id);
  }

  stateOf(id: string): ProcState {
    return this.proc(id).child.state;
  }

  pidOf(id: string): number | undefined {
    return this.proc(id).child.pid;
  }

  lastExitOf(id: string): Exit | undefined {
    return this.proc(id).child.lastExit;
  }

  /** Replicas whose process is running (not stopped, not down). */
  running(ids: readonly string[] = this.members.map((m) => m.id)): string[] {
    // Coordinators by default: most callers ask which replicas to probe.
    return ids.filter((id) => this.proc(id).child.state === 'running');
  }

  /** The last few hundred lines of `id`, every life. */
  linesOf(id: string): readonly string[] {
    return this.proc(id).child.tail();
  }

  // -------------------------------------------------------------------------
  // Processes
  // -------------------------------------------------------------------------

  /** Starts the bootstrap voters and waits until each one's API is up. */
  async startVoters(): Promise<void> {
    await Promise.all(this.voters.map((id) => this.start(id)));
  }

  /**
   * Starts replica `id` (from the join file with `--join` when asked) and
   * waits for its "coordinator ready"; a data node, until its /health answers.
   * `env` adds to the child's environment (e.g. TORUA_FAULTS), for this life only.
   */
  async start(id: string, opts: { join?: boolean; env?: Readonly<Record<string, string>>; main?: string } = {}): Promise<void> {
    if (this.closed) throw new Error('cluster closed');
    const p = this.proc(id);
    if (p.child.state !== 'down') throw new Error(`${id} is already ${p.child.state}`);
    p.ready = false;
    p.outbound.clear();
    p.child.start({ args: this.args(p.spec, opts), ...(opts.env === undefined ? {} : { env: opts.env }) });
    const spec = p.spec;
    await p.child.waitReady(
      spec.kind === 'node' ? 'it to answer /health' : 'its "coordinator ready" line',
      spec.kind === 'node' ? async () => (await httpRequest(spec.host, spec.port, 'GET', '/health', undefined, 1_000)).status === 200 : () => p.ready,
      { timeoutMs: 30_000, intervalMs: spec.kind === 'node' ? 50 : 10 },
    );
  }

  /** What this harness reads from a replica's log: readiness, peer connections, leader claims, snapshots, store stalls. */
  private onLine(p: ReplicaProcess, line: string): void {
    if (!line.startsWith('{')) return;
    let j: Record<string, unknown>;
    try {
      j = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const id = p.spec.id;
    const msg = typeof j['msg'] === 'string' ? j['msg'] : '';
    if (msg === 'coordinator ready' && p.spec.kind === 'coordinator') p.ready = true;
    if (j['direction'] === 'outbound' && typeof j['peer'] === 'string') {
      if (msg.startsWith('connected to ')) p.outbound.set(j['peer'], true);
      else if (msg.startsWith('connection to ') || msg.startsWith('cannot reach ')) p.outbound.set(j['peer'], false);
    }
    if (msg === 'became leader' && typeof j['term'] === 'number') {
      this.claims.push({ term: j['term'], leader: id, by: id, source: 'log', atMs: Date.now() });
    }
    if (typeof j['reason'] === 'string' && j['reason'].startsWith('log store stalled')) this.storeStalls.push(`${id} t${String(j['term'])}`);
    if (msg === 'installed snapshot from the leader') this.snapshotsInstalled.set(id, (this.snapshotsInstalled.get(id) ?? 0) + 1);
  }

  /** Sends `signal` to the replica's PID (SIGINT: a node stops at once, without draining); waits until it exited and returns how. */
  async kill(id: string, signal: 'SIGKILL' | 'SIGTERM' | 'SIGINT' = 'SIGKILL'): Promise<Exit> {
    const c = this.proc(id).child;
    if (c.state === 'down') throw new Error(`${id} is not running`);
    const { exit, forced } = await c.stop(signal, 20_000);
    if (forced) throw new Error(`${id} did not exit within 20 s of ${signal}`);
    return exit;
  }

  /** SIGSTOP: the process hangs, its sockets stay open (a hung leader, not a crashed one). */
  pause(id: string): void {
    const c = this.proc(id).child;
    if (c.state !== 'running') throw new Error(`${id} is not running`);
    c.signal('SIGSTOP');
  }

  resume(id: string): void {
    const c = this.proc(id).child;
    if (c.state !== 'stopped') throw new Error(`${id} is not stopped`);
    c.signal('SIGCONT');
  }

  /**
   * Starts another long-lived `torua ARGS…` (a node outside the file, a
   * following CLI) as a child of this cluster, stopped with it; a name
   * started before gets a new life. Its output is in `linesOf`-style
   * `tail()` and `onLine`.
   */
  launch(name: string, args: readonly string[]): Child {
    if (this.closed) throw new Error('cluster closed');
    if (this.procs.has(name)) throw new Error(`${name} is a process of the cluster file: use start()`);
    const child = this.group.has(name) ? this.group.child(name) : this.group.add(toruaChild(name, args, { cwd: this.dir }));
    child.start({ args: toruaChild(name, args).args });
    return child;
  }

  /** Stops the replica (SIGTERM, or SIGKILL when asked) if it runs, and starts it again. */
  async restart(id: string, opts: { signal?: 'SIGKILL' | 'SIGTERM'; join?: boolean } = {}): Promise<void> {
    if (this.proc(id).child.state !== 'down') await this.kill(id, opts.signal ?? 'SIGTERM');
    await this.start(id, opts.join === undefined ? {} : { join: opts.join });
  }

  /** Deletes the data directory of a replica that is down. */
  async wipe(id: string): Promise<void> {
    if (this.proc(id).child.state !== 'down') throw new Error(`wipe ${id}: stop it first`);
    await fsp.rm(this.dataDirOf(id), { recursive: true, force: true });
  }

  // -------------------------------------------------------------------------
  // HTTP
  // -------------------------------------------------------------------------

  request(id: string, method: string, urlPath: string, body?: unknown, timeoutMs = 3_000): Promise<HttpAnswer> {
    const m = this.member(id);
    return httpRequest(m.host, m.apiPort, method, urlPath, body, timeoutMs);
  }

  get(id: string, urlPath: string, timeoutMs?: number): Promise<HttpAnswer> {
    return this.request(id, 'GET', urlPath, undefined, timeoutMs);
  }

  post(id: string, urlPath: string, body: unknown, timeoutMs?: number): Promise<HttpAnswer> {
    return this.request(id, 'POST', urlPath, body, timeoutMs);
  }

  /**
   * POST /register of a made-up node id (a routing-table write for the
   * coordinator tests). Its address is a closed loopback port (traffic goes
   * to loopback only) and its capacity 0, so the leader never places a
   * shard on it; its probes fail at once and, with no node healthy, the
   * storm guard holds every failure decision.
   */
  async register(via: string, nodeId: string, timeoutMs = 3_000): Promise<HttpAnswer> {
    return this.post(via, '/register', { id: nodeId, address: MADE_UP_NODE_ADDRESS, capacity: 0 }, timeoutMs);
  }

  /** This replica's /health, or undefined when it does not answer in time. */
  async health(id: string, timeoutMs = 1_000): Promise<Health | undefined> {
    const a = await this.get(id, '/health', timeoutMs);
    return a.status === 200 ? (a.body as Health) : undefined;
  }

  async healthOfAll(ids: readonly string[] = this.running()): Promise<Map<string, Health>> {
    const out = new Map<string, Health>();
    await Promise.all(
      ids.map(async (id) => {
        const h = await this.health(id);
        if (h) out.set(id, h);
      }),
    );
    return out;
  }

  /** Node ids in this replica's GET /nodes (linearizable unless `stale`). */
  async nodeIds(id: string, opts: { stale?: boolean } = {}): Promise<Set<string>> {
    const a = await this.get(id, opts.stale ? '/nodes?stale=true' : '/nodes', 5_000);
    if (a.status !== 200) throw new Error(`GET /nodes on ${id}: ${a.status} ${a.error ?? JSON.stringify(a.body)}`);
    return new Set((a.body as { nodes: { id: string }[] }).nodes.map((n) => n.id));
  }

  // -------------------------------------------------------------------------
  // Observations
  // -------------------------------------------------------------------------

  private recordHealth(h: Health): void {
    if (h.leader) this.claims.push({ term: h.term, leader: h.leader, by: h.id, source: 'health', atMs: Date.now() });
  }

  /**
   * The leader a majority of `voters` agrees on: it reports itself leader in
   * term T and enough running voters (itself included) name it in term T.
   */
  async findLeader(opts: LeaderQuery = {}): Promise<{ id: string; term: number } | undefined> {
    const voters = opts.voters ?? this.voters;
    const majority = opts.all ? this.running(voters).length : Math.floor(voters.length / 2) + 1;
    const hs = await this.healthOfAll(this.running(voters));
    for (const h of hs.values()) this.recordHealth(h);
    for (const h of hs.values()) {
      if (h.role !== 'leader' || h.leader !== h.id) continue;
      if (opts.exclude?.includes(h.id) || h.term < (opts.minTerm ?? 0)) continue;
      const agree = [...hs.values()].filter((x) => x.leader === h.id && x.term === h.term).length;
      if (agree >= majority) return { id: h.id, term: h.term };
    }
    return undefined;
  }

  async waitForLeader(opts: LeaderQuery & { timeoutMs?: number; intervalMs?: number } = {}): Promise<{ id: string; term: number }> {
    let last = '';
    return waitFor(
      `a leader agreed by a majority of ${(opts.voters ?? this.voters).join(',')}${opts.exclude?.length ? ` other than ${opts.exclude.join(',')}` : ''}`,
      async () => {
        const found = await this.findLeader(opts);
        if (!found) last = await this.describeHealth();
        return found;
      },
      { timeoutMs: opts.timeoutMs ?? 30_000, intervalMs: opts.intervalMs ?? 20, describe: () => last },
    );
  }

  async describeHealth(ids: readonly string[] = this.members.map((m) => m.id)): Promise<string> {
    const parts = await Promise.all(
      ids.map(async (id) => {
        const st = this.proc(id).child.state;
        if (st !== 'running') return `${id}:${st}`;
        const h = await this.health(id, 500);
        return h ? `${id}:${h.role}/t${h.term}/L=${h.leader ?? '-'}/c${h.commit_index}/a${h.applied_index}/${h.state_hash.slice(0, 8)}` : `${id}:no answer`;
      }),
    );
    return parts.join(' ');
  }

  /**
   * Waits until every running replica of `ids` has an open outbound peer
   * connection to every other one (from their logs): after a restart, a
   * peer may still be waiting out its reconnect backoff.
   */
  async waitForMesh(ids: readonly string[] = this.voters, timeoutMs = 10_000): Promise<void> {
    const missing = (): string[] => {
      const live = this.running(ids);
      const out: string[] = [];
      for (const a of live) for (const b of live) if (a !== b && this.proc(a).outbound.get(b) !== true) out.push(`${a}→${b}`);
      return out;
    };
    await waitFor('every peer connection open', () => (missing().length === 0 ? true : undefined), { timeoutMs, describe: () => `missing ${missing().join(' ')}` });
  }

  /** Polls /health of every running replica in the background, recording who each says leads which term. */
  startMonitor(intervalMs = 25): { stop(): Promise<void> } {
    let stopped = false;
    const loop = (async () => {
      while (!stopped && !this.closed) {
        const hs = await this.healthOfAll(this.running());
        for (const h of hs.values()) this.recordHealth(h);
        await sleep(intervalMs);
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        await loop;
      },
    };
  }

  /** Terms in which two different replicas were named (or claimed to be) leader: must be empty. */
  leaderConflicts(): string[] {
    const byTerm = new Map<number, Map<string, LeaderClaim>>();
    for (const c of this.claims) {
      const m = byTerm.get(c.term) ?? new Map<string, LeaderClaim>();
      if (!m.has(c.leader)) m.set(c.leader, c);
      byTerm.set(c.term, m);
    }
    const out: string[] = [];
    for (const [term, m] of byTerm) {
      if (m.size > 1) out.push(`term ${term}: ${[...m.values()].map((c) => `${c.leader} (said by ${c.by}, ${c.source})`).join(' vs ')}`);
    }
    return out;
  }

  /** Terms and their leader, as observed. */
  leadersByTerm(): Map<number, string[]> {
    const out = new Map<number, string[]>();
    for (const c of this.claims) {
      const l = out.get(c.term) ?? [];
      if (!l.includes(c.leader)) l.push(c.leader);
      out.set(c.term, l);
    }
    return new Map([...out].sort((a, b) => a[0] - b[0]));
  }

  /**
   * Waits until `ids` (default: the running voters) all report the same
   * applied index (equal to their commit index) and the same state hash.
   */
  async waitForConvergence(ids?: readonly string[], timeoutMs = 30_000): Promise<{ appliedIndex: number; stateHash: string }> {
    let last = '';
    return waitFor(
      'equal applied index and state hash on every replica',
      async () => {
        const which = ids ?? this.running(this.voters);
        const hs = await this.healthOfAll(which);
        last = [...hs.values()].map((h) => `${h.id}:c${h.commit_index}/a${h.applied_index}/${h.state_hash.slice(0, 12)}`).join(' ');
        if (hs.size !== which.length) return undefined;
        const all = [...hs.values()];
        const first = all[0]!;
        const same = all.every((h) => h.applied_index === first.applied_index && h.commit_index === h.applied_index && h.state_hash === first.state_hash);
        return same ? { appliedIndex: first.applied_index, stateHash: first.state_hash } : undefined;
      },
      { timeoutMs, intervalMs: 50, describe: () => last },
    );
  }

  /** Acknowledged node ids missing from `id`'s GET /nodes. */
  async missingOn(id: string, acked: Iterable<string>, opts: { stale?: boolean } = {}): Promise<string[]> {
    const have = await this.nodeIds(id, opts);
    return [...acked].filter((n) => !have.has(n));
  }

  // -------------------------------------------------------------------------
  // Partitions (iptables on the loopback aliases; root only)
  // -------------------------------------------------------------------------

  /**
   * Drops every packet between replicas `a` and `b` (both directions) on
   * their peer and API ports: the connections of this cluster only, whoever
   * else uses the aliases.
   */
  cut(a: string, b: string): void {
    const A = this.member(a);
    const B = this.member(b);
    for (const [x, y] of [
      [A, B],
      [B, A],
    ] as const) {
      for (const port of [y.peerPort, y.apiPort]) this.addRule(['INPUT', '-s', x.host, '-d', y.host, '-p', 'tcp', '--dport', String(port), '-j', 'DROP']);
      for (const port of [x.peerPort, x.apiPort]) this.addRule(['INPUT', '-s', x.host, '-d', y.host, '-p', 'tcp', '--sport', String(port), '-j', 'DROP']);
    }
  }

  /**
   * Drops every packet between data node `nodeId` and every coordinator
   * (their API ports and the node's port, both directions): the node can
   * neither renew its lease nor be reached by the coordinators; its peers
   * still reach it.
   */
  cutNodeFromCoordinators(nodeId: string): void {
    for (const m of this.members) this.cutCoordinatorFromNode(m.id, nodeId);
  }

  /**
   * Drops every packet between coordinator `memberId` and data node `nodeId`
   * (the coordinator's API port and the node's port, both directions): that
   * coordinator can neither probe the node nor hear its renewals, while the
   * other coordinators still reach it.
   */
  cutCoordinatorFromNode(memberId: string, nodeId: string): void {
    const m = this.member(memberId);
    const n = this.node(nodeId);
    this.addRule(['INPUT', '-s', n.host, '-d', m.host, '-p', 'tcp', '--dport', String(m.apiPort), '-j', 'DROP']);
    this.addRule(['INPUT', '-s', m.host, '-d', n.host, '-p', 'tcp', '--sport', String(m.apiPort), '-j', 'DROP']);
    this.addRule(['INPUT', '-s', m.host, '-d', n.host, '-p', 'tcp', '--dport', String(n.port), '-j', 'DROP']);
    this.addRule(['INPUT', '-s', n.host, '-d', m.host, '-p', 'tcp', '--sport', String(n.port), '-j', 'DROP']);
  }

  /** Cuts `id` off from every other replica. */
  isolate(id: string): void {
    for (const m of this.members) if (m.id !== id) this.cut(id, m.id);
  }

  private addRule(spec: string[]): void {
    const full = [...spec.slice(0, 1), ...spec.slice(1, -2), '-m', 'comment', '--comment', `torua-it-${process.pid}`, ...spec.slice(-2)];
    execFileSync('iptables', ['-I', ...full], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    this.rules.push(full);
    liveRules.add(JSON.stringify(full));
  }

  /** Deletes exactly the rules this cluster added. */
  heal(): void {
    const errors: string[] = [];
    while (this.rules.length > 0) {
      const r = this.rules.pop()!;
      try {
        execFileSync('iptables', ['-D', ...r], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
      } catch (e) {
        errors.push(`iptables -D ${r.join(' ')}: ${(e as Error).message.split('\n')[0]}`);
      }
      liveRules.delete(JSON.stringify(r));
    }
    if (errors.length > 0) throw new Error(errors.join('\n'));
  }

  get ruleCount(): number {
    return this.rules.length;
  }

  // -------------------------------------------------------------------------
  // Teardown and diagnostics
  // -------------------------------------------------------------------------

  /** What every replica said last, for a failed test. */
  diagnostics(linesPerReplica = 80): string {
    const out = [`=== cluster ${this.name} (${this.dir}) ===`];
    for (const { spec, child: c } of this.procs.values()) {
      if (c.lives === 0) continue;
      const ports = spec.kind === 'node' ? `port ${spec.port}` : `api ${spec.apiPort} peer ${spec.peerPort}`;
      out.push(`--- ${spec.id} ${spec.host} ${ports}: ${c.state}, pid ${String(c.pid)}, lives ${c.lives}, last exit ${JSON.stringify(c.lastExit ?? null)}`);
      out.push(...c.tail(linesPerReplica).map(compactLine));
    }
    const leaders = [...this.leadersByTerm()].map(([t, l]) => `t${t}:${l.join('/')}`).join(' ');
    out.push(`--- leaders by term: ${leaders}`);
    return out.join('\n');
  }

  /** Resumes stopped children, kills every child by PID, deletes the rules it added, removes the directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const errors: unknown[] = [];
    try {
      this.heal();
    } catch (e) {
      errors.push(e);
    }
    await this.group.close();
    if (errors.length > 0) throw errors[0];
  }
}

/** A JSON log line in a few words: time, message, and the fields that matter. */
function compactLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const { level, time, pid: _pid, hostname: _h, replica, node, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const t = typeof time === 'string' ? time.slice(11, 23) : '';
    return `${t} ${String(replica ?? node)} ${String(level)} ${String(msg)} ${JSON.stringify(rest)}`;
  } catch {
    return line;
  }
}

// ---------------------------------------------------------------------------
// The steady writer
// ---------------------------------------------------------------------------

export interface WriteRecord {
  readonly nodeId: string;
  readonly target: string;
  readonly sentAt: number;
  doneAt?: number;
  /** HTTP status, 0 for no answer. */
  status?: number;
  code?: string;
}

/**
 * POSTs /register with a fresh node id every `intervalMs` to the next running
 * replica (round robin), at most `maxInFlight` at once, each with its own
 * timeout, and records every outcome: an answer 200 is an acknowledged write.
 */
export class Writer {
  readonly records: WriteRecord[] = [];
  private stopped = false;
  private inFlight = 0;
  private loop: Promise<void> | undefined;
  private readonly pending = new Set<Promise<void>>();
  private n = 0;
  private rr = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly opts: { prefix: string; intervalMs?: number; maxInFlight?: number; timeoutMs?: number; targets?: () => readonly string[] },
  ) {}

  start(): this {
    this.loop = (async () => {
      while (!this.stopped) {
        const targets = this.opts.targets?.() ?? this.cluster.running(this.cluster.voters);
        if (this.inFlight < (this.opts.maxInFlight ?? 64) && targets.length > 0) this.fire(targets[this.rr++ % targets.length]!);
        await sleep(this.opts.intervalMs ?? 10);
      }
    })();
    return this;
  }

  private fire(target: string): void {
    const rec: WriteRecord = { nodeId: `${this.opts.prefix}-${this.n++}`, target, sentAt: now() };
    this.records.push(rec);
    this.inFlight++;
    const p = this.cluster.register(target, rec.nodeId, this.opts.timeoutMs ?? 2_000).then((a) => {
      rec.doneAt = now();
      rec.status = a.status;
      rec.code = a.status === 200 ? undefined : (a.body?.error?.code ?? a.error);
      this.inFlight--;
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Stops sending and waits for the writes in flight to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await Promise.all([...this.pending]);
  }

  acked(): WriteRecord[] {
    return this.records.filter((r) => r.status === 200);
  }

  ackedIds(): string[] {
    return this.acked().map((r) => r.nodeId);
  }

  /** The first acknowledged write sent at or after `t`. */
  firstAckSentAfter(t: number): WriteRecord | undefined {
    let best: WriteRecord | undefined;
    for (const r of this.records) if (r.status === 200 && r.sentAt >= t && (!best || r.doneAt! < best.doneAt!)) best = r;
    return best;
  }

  /** Resolves once `count` more writes were acknowledged than when called. */
  async waitForAcks(count: number, timeoutMs = 20_000): Promise<void> {
    const target = this.acked().length + count;
    await waitFor(`${count} more acknowledged writes`, () => (this.acked().length >= target ? true : undefined), {
      timeoutMs,
      describe: () => {
        const recent = this.records.slice(-8).map((r) => `${r.target}:${String(r.status ?? '…')}${r.code ? `/${r.code}` : ''}`);
        return `acked ${this.acked().length}, recent ${recent.join(' ')}`;
      },
    });
  }

  summary(): string {
    const by = new Map<string, number>();
    for (const r of this.records) {
      const k = r.status === undefined ? 'pending' : r.status === 200 ? '200' : `${r.status}${r.code ? ` ${r.code}` : ''}`;
      by.set(k, (by.get(k) ?? 0) + 1);
    }
    return `${this.records.length} writes: ${[...by].map(([k, v]) => `${k}×${v}`).join(', ')}`;
  }
}

// ---------------------------------------------------------------------------
// Lifecycle in a test file
// ---------------------------------------------------------------------------

/**
 * Clusters made through `create` are closed after each test (failed or not),
 * and a failed test prints their diagnostics first.
 */
export function useClusters(): { create(opts: ClusterOptions): Promise<Cluster>; open: Cluster[] } {
  const open: Cluster[] = [];
  let current: Cluster[] = [];
  const closeAll = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const c of open.splice(0)) await c.close().catch((e: unknown) => errors.push(e));
    if (errors.length > 0) throw errors[0];
  };
  beforeEach(({ onTestFailed }) => {
    const mine: Cluster[] = [];
    current = mine;
    onTestFailed(() => {
      for (const c of mine) console.error(c.diagnostics());
    });
  });
  afterEach(closeAll);
  afterAll(closeAll);
  return {
    open,
    create: async (opts) => {
      const c = await Cluster.create(opts);
      open.push(c);
      current.push(c);
      return c;
    },
  };
}
