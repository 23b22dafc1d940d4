/**
 * The cluster the failover bench measures: 3 coordinators (127.0.0.11–13)
 * and 3 data nodes (127.0.0.41–43) as real processes from dist/, RF 2, 8
 * shards, the default health settings, and a temporary cluster file. Unlike
 * the KV bench's cluster it hands out its data nodes by id so they can be
 * stopped and resumed (SIGSTOP/SIGCONT by PID), and it reads the table's
 * view: shards, node statuses and events.
 */
import { parseJson, request } from './http.js';
import { now, sleep } from '../launch/wait-for.js';
import type { Child } from '../launch/child.js';
import { DataCluster, SHARDS, type Endpoint } from './data-cluster.js';

export { SHARDS };
const START_TIMEOUT_MS = 30_000;
const READ_TIMEOUT_MS = 2_000;

export interface ShardView {
  readonly id: number;
  readonly primary: string | null;
  readonly replicas: readonly string[];
  readonly in_sync: readonly string[];
  readonly epoch: number;
}
export interface NodeView {
  readonly id: string;
  readonly status: string;
}
export interface EventView {
  readonly seq: number;
  readonly kind: string;
  readonly node: string | null;
  readonly shard: number | null;
  readonly message: string;
}

/** Why the cluster is not green (every node healthy, every shard's two copies in sync), or undefined when it is. */
export function notGreen(shards: readonly ShardView[], nodes: readonly NodeView[], expectedShards = SHARDS): string | undefined {
  const sick = nodes.filter((n) => n.status !== 'healthy');
  if (sick.length > 0) return `nodes not healthy: ${sick.map((n) => `${n.id} ${n.status}`).join(', ')}`;
  if (shards.length !== expectedShards) return `${shards.length} of ${expectedShards} shards listed`;
  const lacking = shards.filter((s) => s.primary === null || s.in_sync.length < 2 || !s.in_sync.includes(s.primary));
  return lacking.length === 0 ? undefined : `shards without both copies in sync: ${lacking.map((s) => s.id).join(', ')}`;
}

/** The node that is primary of the most shards (ties: the first by id), and those shards. */
export function mostPrimaries(shards: readonly ShardView[]): { node: string; shards: number[] } {
  const by = new Map<string, number[]>();
  for (const s of shards) if (s.primary !== null) by.set(s.primary, [...(by.get(s.primary) ?? []), s.id]);
  const [node, of] = [...by].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))[0]!;
  return { node, shards: of };
}

export class FailoverBenchCluster extends DataCluster {
  private rr = 0;

  /** Other benches reuse this cluster under their own name and node aliases (and may have more shards), so their runs never share addresses. */
  constructor(opts: { readonly name: string; readonly nodeHostBase: number; readonly shards?: number } = { name: 'failover', nodeHostBase: 41 }) {
    super({ ...opts, startTimeoutMs: START_TIMEOUT_MS });
  }

  start(): Promise<void> {
    return this.startProcesses();
  }

  /** The coordinators in turn: a read goes to the next one when one does not answer. */
  nextCoordinator(): Endpoint {
    return this.coordinators[this.rr++ % this.coordinators.length]!;
  }

  /** A GET on the coordinators in turn until one answers 200 (bounded tries). */
  async read<T>(urlPath: string): Promise<T> {
    let last = '';
    for (let i = 0; i < this.coordinators.length * 2; i++) {
      const c = this.nextCoordinator();
      const a = await request(false, c.host, c.port, 'GET', urlPath, undefined, READ_TIMEOUT_MS);
      const body = a.status === 200 ? (parseJson(a.text) as T | undefined) : undefined;
      if (body !== undefined) return body;
      last = `${c.id}: ${a.status} ${a.text.slice(0, 200)}`;
    }
    throw new Error(`GET ${urlPath} answered by no coordinator (last: ${last})`);
  }

  async post(urlPath: string, body: unknown): Promise<number> {
    const c = this.nextCoordinator();
    return (await request(false, c.host, c.port, 'POST', urlPath, body, 10_000)).status;
  }

  shards = async (): Promise<ShardView[]> => (await this.read<{ shards: ShardView[] }>('/shards')).shards;
  nodeViews = async (): Promise<NodeView[]> => (await this.read<{ nodes: NodeView[] }>('/nodes')).nodes;

  async events(since: number): Promise<{ events: EventView[]; last_seq: number }> {
    return this.read(`/events?since=${since}`);
  }

  /** Polls until the cluster is green; throws after `timeoutMs` with what it lacked. */
  async waitGreen(timeoutMs: number): Promise<void> {
    let lacking = 'no answer yet';
    const deadline = now() + timeoutMs;
    for (let i = 0; i < 100_000 && now() < deadline; i++) {
      const dead = this.exited();
      if (dead.length > 0) throw new Error(`${dead.join(', ')} exited\n${await this.logTails(dead.slice(0, 1))}`);
      try {
        const why = notGreen(await this.shards(), await this.nodeViews(), this.shardCount);
        if (why === undefined) return;
        lacking = why;
      } catch (e) {
        lacking = String(e);
      }
      await sleep(100);
    }
    throw new Error(`the cluster was not green within ${timeoutMs} ms: ${lacking}`);
  }

  async pause(nodeId: string): Promise<void> {
    this.child(nodeId).signal('SIGSTOP');
  }

  async resume(nodeId: string): Promise<void> {
    this.child(nodeId).signal('SIGCONT');
  }

  protected child(id: string): Child {
    const c = this.childOf(id);
    if (c === undefined || !c.alive) throw new Error(`${id} is not running`);
    return c;
  }

  logTail(id: string, lines = 12): Promise<string> {
    return this.logTails([id], lines);
  }
}
