/**
 * The chaos run's cluster: 3 coordinators (127.0.0.11–13) and 3 data nodes
 * (127.0.0.21–23), each its own process from dist/ on its own loopback
 * alias, 8 shards, RF 2, default timings, in a temporary directory. Children
 * are tracked by PID (scripts/bench/procs.ts); `close()` and the exit hook
 * resume stopped ones, kill every one by PID and remove the directory
 * (unless kept).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodeInfo, ReplicaHealth, ShardInfo } from '../../src/client/index.js';
import type { ShardCopyInfo } from '../../src/datanode/contract.js';
import { parseJson, request } from '../bench/http.js';
import { freePort, now, signalChild, sleep, startChild, waitFor, type Child } from '../bench/procs.js';
import type { Endpoint } from './firewall.js';

const REPO_ROOT = path.resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const MAIN_JS = path.join(REPO_ROOT, 'dist/src/cli/main.js');
export const SHARDS = 8;
export const REPLICATION_FACTOR = 2;
const START_TIMEOUT_MS = 30_000;

export interface Member {
  readonly id: string;
  readonly kind: 'coordinator' | 'node';
  readonly host: string;
  /** The API port (coordinator) or the node's port. */
  readonly port: number;
  /** Coordinators only. */
  readonly peerPort?: number;
}

export type ProcState = 'down' | 'running' | 'stopped';

/** The wire shapes (DESIGN.md §7), as the client package and the data node's contract give them. */
export type Health = Pick<ReplicaHealth, 'id' | 'role' | 'leader' | 'term' | 'commit_index' | 'applied_index' | 'state_hash'>;
export type ShardView = ShardInfo;
export type NodeView = NodeInfo;
export type CopyView = ShardCopyInfo;

/** `--disk-faults`: the coordinators run with TORUA_FAULTS (src/storage/faults), seeded from the run's seed. */
export interface DiskFaultPlan {
  readonly seed: number;
}

const SELF_EXIT_RESTART_MS = 300;

/** Rare enough that a quorum usually survives; each life of each replica gets its own seed. */
function faultSwitch(plan: DiskFaultPlan, id: string, life: number): string {
  const replica = Number(id.replace(/\D/g, '')) || 0;
  return JSON.stringify({
    syncFailRate: 0.005,
    syncDelayRate: 0.02,
    syncDelayMs: [0, 150],
    crashBetweenPersistAndSendRate: 0.005,
    onlyWhenLeader: true,
    seed: (plan.seed * 1_000 + replica * 100 + life) >>> 0,
  });
}

export class ChaosCluster {
  readonly coordinators: Member[] = [];
  readonly nodes: Member[] = [];
  readonly file: string;
  private readonly children = new Map<string, Child>();
  private readonly states = new Map<string, ProcState>();
  private readonly lives = new Map<string, number>();
  /** Children this harness is ending itself: their exit is no crash. */
  private readonly ending = new WeakSet<Child>();
  /** Coordinators that exited by themselves (disk faults) and were started again. */
  readonly selfExits: string[] = [];
  private closing = false;
  private exitHook: (() => void) | undefined;

  private constructor(
    readonly dir: string,
    private readonly keep: boolean,
    private readonly diskFaults: DiskFaultPlan | undefined,
  ) {
    this.file = path.join(dir, 'cluster.json');
  }

  static async create(opts: { keep: boolean; diskFaults?: DiskFaultPlan }): Promise<ChaosCluster> {
    if (!fs.existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first`);
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'torua-chaos-'));
    const c = new ChaosCluster(dir, opts.keep, opts.diskFaults);
    c.exitHook = () => c.closeSync();
    process.once('exit', c.exitHook);
    await fsp.mkdir(path.join(dir, 'logs'));
    for (let i = 0; i < 3; i++) {
      const host = `127.0.0.${11 + i}`;
      c.coordinators.push({ id: `c${i + 1}`, kind: 'coordinator', host, port: await freePort(host), peerPort: await freePort(host) });
    }
    for (let i = 0; i < 3; i++) {
      const host = `127.0.0.${21 + i}`;
      c.nodes.push({ id: `n${i + 1}`, kind: 'node', host, port: await freePort(host) });
    }
    const content = {
      clusterId: 'chaos',
      dataDir: path.join(dir, 'data'),
      shards: SHARDS,
      replicationFactor: REPLICATION_FACTOR,
      coordinators: c.coordinators.map((m) => ({ id: m.id, host: m.host, apiPort: m.port, peerPort: m.peerPort })),
      nodes: c.nodes.map((n) => ({ id: n.id, host: n.host, port: n.port, capacity: 16 })),
      logLevel: 'info',
    };
    await fsp.writeFile(c.file, `${JSON.stringify(content, null, 2)}\n`);
    for (const m of [...c.coordinators, ...c.nodes]) c.states.set(m.id, 'down');
    return c;
  }

  get coordinatorAddresses(): string[] {
    return this.coordinators.map((c) => `${c.host}:${c.port}`);
  }

  member(id: string): Member {
    const m = [...this.coordinators, ...this.nodes].find((x) => x.id === id);
    if (m === undefined) throw new Error(`no coordinator or node ${id}`);
    return m;
  }

  /** The member as the firewall sees it: its host and every port it listens on. */
  endpoint(id: string): Endpoint {
    const m = this.member(id);
    return { host: m.host, ports: m.peerPort === undefined ? [m.port] : [m.port, m.peerPort] };
  }

  stateOf(id: string): ProcState {
    return this.states.get(id) ?? 'down';
  }

  livesOf(id: string): number {
    return this.lives.get(id) ?? 0;
  }

  logFile(id: string): string {
    return path.join(this.dir, 'logs', `${id}.log`);
  }

  async startAll(): Promise<void> {
    await Promise.all(this.coordinators.map((m) => this.start(m.id)));
    await Promise.all(this.nodes.map((m) => this.start(m.id)));
  }

  /** Starts `id` and waits until its /health answers. */
  async start(id: string): Promise<void> {
    if (this.stateOf(id) !== 'down') throw new Error(`${id} is already ${this.stateOf(id)}`);
    const m = this.member(id);
    const life = this.livesOf(id) + 1;
    const faults = m.kind === 'coordinator' && this.diskFaults !== undefined ? { TORUA_FAULTS: faultSwitch(this.diskFaults, id, life) } : {};
    const child = startChild(`torua ${id}`, process.execPath, [MAIN_JS, m.kind, '--config', this.file, '--id', id], this.logFile(id), { ...process.env, NODE_OPTIONS: '', ...faults });
    this.children.set(id, child);
    this.states.set(id, 'running');
    this.lives.set(id, life);
    void child.exited.then(() => {
      if (this.children.get(id) !== child) return;
      const crashed = this.states.get(id) === 'running' && !this.ending.has(child);
      this.states.set(id, 'down');
      // With disk faults on, a coordinator exits by itself (its store failed, or a crash between persist and
      // send was injected): a supervisor would start it again, and so does this harness.
      if (crashed && this.diskFaults !== undefined && m.kind === 'coordinator' && !this.closing) {
        this.selfExits.push(id);
        setTimeout(() => void this.heal(id).catch(() => undefined), SELF_EXIT_RESTART_MS);
      }
    });
    const up = await waitFor(
      `${id} to answer /health`,
      async () => (!child.alive ? false : (await request(false, m.host, m.port, 'GET', '/health', undefined, 500)).status === 200 ? true : undefined),
      START_TIMEOUT_MS,
      50,
    ).catch((e: unknown) => String(e));
    if (up !== true) throw new Error(`${up === false ? `${id} exited before it answered /health` : up}\n${await this.logTail(id)}`);
  }

  /** SIGKILL (or SIGTERM) by PID; waits until it exited. */
  async kill(id: string, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const c = this.children.get(id);
    if (c === undefined || !c.alive) return;
    this.ending.add(c);
    await signalChild(c, signal);
    this.states.set(id, 'down');
  }

  async pause(id: string): Promise<void> {
    const c = this.children.get(id);
    if (c === undefined || !c.alive || c.stopped) return;
    await signalChild(c, 'SIGSTOP');
    this.states.set(id, 'stopped');
  }

  async resume(id: string): Promise<void> {
    const c = this.children.get(id);
    if (c === undefined || !c.alive || !c.stopped) return;
    await signalChild(c, 'SIGCONT');
    this.states.set(id, 'running');
  }

  /** Whatever state it is in, running afterwards. */
  async heal(id: string): Promise<void> {
    if (this.stateOf(id) === 'stopped') await this.resume(id);
    if (this.stateOf(id) === 'down') await this.start(id);
  }

  async health(id: string, timeoutMs = 500): Promise<Health | undefined> {
    if (this.stateOf(id) !== 'running') return undefined;
    const m = this.member(id);
    const a = await request(false, m.host, m.port, 'GET', '/health', undefined, timeoutMs);
    return a.status === 200 ? (parseJson(a.text) as Health | undefined) : undefined;
  }

  async healthOfAll(timeoutMs = 500): Promise<Health[]> {
    const hs = await Promise.all(this.coordinators.map((m) => this.health(m.id, timeoutMs)));
    return hs.filter((h): h is Health => h !== undefined);
  }

  /** The leader that says so itself and that a majority (itself counted) names in its term. */
  async leader(timeoutMs = 500): Promise<{ id: string; term: number } | undefined> {
    return majorityLeader(await this.healthOfAll(timeoutMs), this.coordinators.length);
  }

  /** A JSON GET on a running coordinator (the first that answers 200). */
  async getJson(urlPath: string, timeoutMs = 2_000): Promise<unknown> {
    for (const m of this.coordinators) {
      if (this.stateOf(m.id) !== 'running') continue;
      const a = await request(false, m.host, m.port, 'GET', urlPath, undefined, timeoutMs);
      if (a.status === 200) return parseJson(a.text);
    }
    return undefined;
  }

  /** A request to coordinator `id` (the leader for admin operations). */
  call(id: string, method: string, urlPath: string, body: unknown, timeoutMs = 5_000): Promise<{ status: number; text: string }> {
    const m = this.member(id);
    return request(false, m.host, m.port, method, urlPath, body, timeoutMs);
  }

  async shards(): Promise<ShardView[] | undefined> {
    return ((await this.getJson('/shards')) as { shards?: ShardView[] } | undefined)?.shards;
  }

  async nodeList(): Promise<NodeView[] | undefined> {
    return ((await this.getJson('/nodes')) as { nodes?: NodeView[] } | undefined)?.nodes;
  }

  /** A data node's copies, from its GET /info. */
  async copiesOf(id: string): Promise<CopyView[] | undefined> {
    if (this.stateOf(id) !== 'running') return undefined;
    const m = this.member(id);
    const a = await request(false, m.host, m.port, 'GET', '/info', undefined, 1_000);
    return a.status === 200 ? ((parseJson(a.text) as { shards?: CopyView[] } | undefined)?.shards ?? undefined) : undefined;
  }

  async logTail(id: string, lines = 20): Promise<string> {
    const text = await fsp.readFile(this.logFile(id), 'utf8').catch(() => '');
    return `--- ${id} (last lines of ${this.logFile(id)}) ---\n${text.split('\n').slice(-lines).join('\n')}`;
  }

  /** Resumes stopped children, kills every child by PID, removes the directory unless kept. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.children.values()].map((c) => signalChild(c, 'SIGKILL').catch(() => undefined)));
    for (const id of this.states.keys()) this.states.set(id, 'down');
    if (!this.keep) {
      for (let i = 0; i < 5; i++) {
        const done = await fsp.rm(this.dir, { recursive: true, force: true }).then(() => true, () => false);
        if (done) break;
        await sleep(100);
      }
    }
    if (this.exitHook !== undefined) process.removeListener('exit', this.exitHook);
  }

  /** At exit (Ctrl-C included): nothing async runs any more. */
  private closeSync(): void {
    for (const c of this.children.values()) {
      if (!c.alive) continue;
      try {
        if (c.stopped) process.kill(c.pid, 'SIGCONT');
        process.kill(c.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    if (!this.keep) fs.rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** The leader that reports itself as such and that a majority of `voters` names in its term. */
export function majorityLeader(hs: readonly Health[], voters: number): { id: string; term: number } | undefined {
  const majority = Math.floor(voters / 2) + 1;
  for (const h of hs) {
    if (h.role !== 'leader' || h.leader !== h.id) continue;
    if (hs.filter((x) => x.leader === h.id && x.term === h.term).length >= majority) return { id: h.id, term: h.term };
  }
  return undefined;
}

export { now, sleep };
