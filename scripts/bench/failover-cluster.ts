/**
 * The cluster the failover bench measures: 3 coordinators (127.0.0.11–13)
 * and 3 data nodes (127.0.0.41–43) as real processes from dist/, RF 2, 8
 * shards, the default health settings, and a temporary cluster file. Unlike
 * the KV bench's cluster it hands out its data nodes by id so they can be
 * stopped and resumed (SIGSTOP/SIGCONT by PID), and it reads the table's
 * view: shards, node statuses and events.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseJson, request } from './http.js';
import { freePort, killAll, makeTempDir, now, removeDir, signalChild, sleep, startChild, waitFor, type Child } from './procs.js';
import type { Endpoint } from './kv-cluster.js';

const REPO_ROOT = path.resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const MAIN_JS = path.join(REPO_ROOT, 'dist/src/cli/main.js');
export const SHARDS = 8;
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
export function notGreen(shards: readonly ShardView[], nodes: readonly NodeView[]): string | undefined {
  const sick = nodes.filter((n) => n.status !== 'healthy');
  if (sick.length > 0) return `nodes not healthy: ${sick.map((n) => `${n.id} ${n.status}`).join(', ')}`;
  if (shards.length !== SHARDS) return `${shards.length} of ${SHARDS} shards listed`;
  const lacking = shards.filter((s) => s.primary === null || s.in_sync.length < 2 || !s.in_sync.includes(s.primary));
  return lacking.length === 0 ? undefined : `shards without both copies in sync: ${lacking.map((s) => s.id).join(', ')}`;
}

export class FailoverBenchCluster {
  readonly coordinators: Endpoint[] = [];
  readonly nodes: Endpoint[] = [];
  private dir = '';
  private readonly children = new Map<string, Child>();
  private rr = 0;

  async start(): Promise<void> {
    this.dir = await makeTempDir('torua-failover-bench-');
    await fsp.mkdir(path.join(this.dir, 'logs'));
    const coordinators = [];
    for (let i = 0; i < 3; i++) {
      const host = `127.0.0.${11 + i}`;
      const spec = { id: `c${i + 1}`, host, apiPort: await freePort(host), peerPort: await freePort(host) };
      coordinators.push(spec);
      this.coordinators.push({ id: spec.id, host, port: spec.apiPort });
    }
    for (let i = 0; i < 3; i++) {
      const host = `127.0.0.${41 + i}`;
      this.nodes.push({ id: `n${i + 1}`, host, port: await freePort(host) });
    }
    const file = path.join(this.dir, 'cluster.json');
    const content = {
      clusterId: 'failover-bench',
      dataDir: path.join(this.dir, 'data'),
      shards: SHARDS,
      replicationFactor: 2,
      coordinators,
      nodes: this.nodes.map((n) => ({ id: n.id, host: n.host, port: n.port, capacity: 16 })),
      logLevel: 'info',
    };
    await fsp.writeFile(file, `${JSON.stringify(content, null, 2)}\n`);
    await Promise.all(this.coordinators.map((c) => this.spawn(c, ['coordinator', '--config', file, '--id', c.id])));
    await Promise.all(this.nodes.map((n) => this.spawn(n, ['node', '--config', file, '--id', n.id])));
  }

  private async spawn(e: Endpoint, args: readonly string[]): Promise<void> {
    const child = startChild(`torua ${e.id}`, process.execPath, [MAIN_JS, ...args], path.join(this.dir, 'logs', `${e.id}.log`), { ...process.env, NODE_OPTIONS: '' });
    this.children.set(e.id, child);
    const up = await waitFor(
      `${e.id} to answer /health`,
      async () => (!child.alive ? false : (await request(false, e.host, e.port, 'GET', '/health', undefined, 500)).status === 200 ? true : undefined),
      START_TIMEOUT_MS,
      25,
    );
    if (!up) throw new Error(`${e.id} exited before it answered /health\n${await this.logTail(e.id)}`);
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
      const dead = [...this.children.entries()].filter(([, c]) => !c.alive).map(([id]) => id);
      if (dead.length > 0) throw new Error(`${dead.join(', ')} exited\n${await this.logTail(dead[0]!)}`);
      try {
        const why = notGreen(await this.shards(), await this.nodeViews());
        if (why === undefined) return;
        lacking = why;
      } catch (e) {
        lacking = String(e);
      }
      await sleep(100);
    }
    throw new Error(`the cluster was not green within ${timeoutMs} ms: ${lacking}`);
  }

  pause(nodeId: string): Promise<void> {
    return signalChild(this.child(nodeId), 'SIGSTOP');
  }

  resume(nodeId: string): Promise<void> {
    return signalChild(this.child(nodeId), 'SIGCONT');
  }

  private child(id: string): Child {
    const c = this.children.get(id);
    if (c === undefined || !c.alive) throw new Error(`${id} is not running`);
    return c;
  }

  async logTail(id: string, lines = 12): Promise<string> {
    const text = await fsp.readFile(path.join(this.dir, 'logs', `${id}.log`), 'utf8').catch(() => '');
    return `--- ${id} (last lines) ---\n${text.split('\n').slice(-lines).join('\n')}`;
  }

  async close(): Promise<void> {
    await killAll([...this.children.values()]);
    if (this.dir) await removeDir(this.dir);
  }
}
