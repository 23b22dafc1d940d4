/**
 * The chaos run's cluster: 3 coordinators (127.0.0.11–13) and 3 data nodes
 * (127.0.0.21–23), each its own process from dist/ on its own loopback
 * alias, 8 shards, RF 2, default timings, in a temporary directory. Children
 * are one launch group (scripts/launch); `close()` and its exit hook resume
 * stopped ones, kill every one by PID and remove the directory (unless kept).
 */
import path from 'node:path';
import type { NodeInfo, ReplicaHealth, ShardInfo } from '../../src/client/index.js';
import type { ShardCopyInfo } from '../../src/datanode/contract.js';
import { parseJson, request } from '../bench/http.js';
import { now, sleep } from '../launch/wait-for.js';
import type { Child } from '../launch/child.js';
import { LaunchGroup } from '../launch/group.js';
import { loopbackAlias } from '../launch/ports.js';
import { layoutCoordinators, layoutNodes, MAIN_JS, requireBuilt, toruaChild, writeClusterFile } from '../launch/torua-cluster-file.js';
import type { Endpoint } from './firewall.js';

export { MAIN_JS };
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
  /** Children this harness is ending itself: their exit is no crash. */
  private readonly ending = new Set<Child>();
  /** Coordinators that exited by themselves (disk faults) and were started again. */
  readonly selfExits: string[] = [];
  private closing = false;

  private constructor(
    private readonly group: LaunchGroup,
    private readonly diskFaults: DiskFaultPlan | undefined,
  ) {
    this.file = path.join(group.dir, 'cluster.json');
  }

  get dir(): string {
    return this.group.dir;
  }

  static async create(opts: { keep: boolean; diskFaults?: DiskFaultPlan }): Promise<ChaosCluster> {
    requireBuilt();
    const c = new ChaosCluster(await LaunchGroup.create({ prefix: 'torua-chaos-', keep: opts.keep, output: 'file' }), opts.diskFaults);
    const coordinators = await layoutCoordinators(3);
    const nodes = await layoutNodes(3, (i) => loopbackAlias(21 + i));
    c.coordinators.push(...coordinators.map((m) => ({ id: m.id, kind: 'coordinator' as const, host: m.host, port: m.apiPort, peerPort: m.peerPort })));
    c.nodes.push(...nodes.map((n) => ({ id: n.id, kind: 'node' as const, host: n.host, port: n.port })));
    await writeClusterFile(c.file, {
      clusterId: 'chaos',
      dataDir: path.join(c.dir, 'data'),
      shards: SHARDS,
      replicationFactor: REPLICATION_FACTOR,
      coordinators,
      nodes,
      logLevel: 'info',
    });
    for (const m of [...c.coordinators, ...c.nodes]) c.group.add(toruaChild(m.id, [m.kind, '--config', c.file, '--id', m.id]));
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
    return this.group.child(id).state;
  }

  livesOf(id: string): number {
    return this.group.child(id).lives;
  }

  logFile(id: string): string {
    return this.group.child(id).spec.logFile;
  }

  async startAll(): Promise<void> {
    await Promise.all(this.coordinators.map((m) => this.start(m.id)));
    await Promise.all(this.nodes.map((m) => this.start(m.id)));
  }

  /** Starts `id` and waits until its /health answers. */
  async start(id: string): Promise<void> {
    const m = this.member(id);
    const child = this.group.child(id);
    const life = child.lives + 1;
    const faults: Record<string, string> = m.kind === 'coordinator' && this.diskFaults !== undefined ? { TORUA_FAULTS: faultSwitch(this.diskFaults, id, life) } : {};
    child.start({ env: faults });
    void child.exited.then(() => {
      if (child.lives !== life) return;
      const crashed = !this.ending.delete(child);
      // With disk faults on, a coordinator exits by itself (its store failed, or a crash between persist and
      // send was injected): a supervisor would start it again, and so does this harness.
      if (crashed && this.diskFaults !== undefined && m.kind === 'coordinator' && !this.closing) {
        this.selfExits.push(id);
        setTimeout(() => void this.heal(id).catch(() => undefined), SELF_EXIT_RESTART_MS);
      }
    });
    await child.waitReady('it to answer /health', async () => (await request(false, m.host, m.port, 'GET', '/health', undefined, 500)).status === 200, {
      timeoutMs: START_TIMEOUT_MS,
      intervalMs: 50,
    });
  }

  /** SIGKILL (or SIGTERM) by PID; waits until it exited. */
  async kill(id: string, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const c = this.group.child(id);
    if (!c.alive) return;
    this.ending.add(c);
    await c.stop(signal, 10_000);
  }

  async pause(id: string): Promise<void> {
    const c = this.group.child(id);
    if (c.state === 'running') c.signal('SIGSTOP');
  }

  async resume(id: string): Promise<void> {
    const c = this.group.child(id);
    if (c.state === 'stopped') c.signal('SIGCONT');
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
    return `--- ${id} (last lines of ${this.logFile(id)}) ---\n${this.group.child(id).tail(lines).join('\n')}`;
  }

  /** Resumes stopped children, kills every child by PID, removes the directory unless kept. */
  async close(): Promise<void> {
    this.closing = true;
    for (const c of this.group.children) if (c.alive) this.ending.add(c);
    await this.group.close();
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
