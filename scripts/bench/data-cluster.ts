/**
 * What the KV and failover benches share: a temporary directory with a
 * cluster file of 3 coordinators (127.0.0.11–13) and 3 data nodes (on the
 * aliases from `nodeHostBase`; `nodeCount` may ask for fewer), RF 2, 8 shards unless told, and its processes started
 * from dist/ one by one until each answers /health. Each bench adds its own
 * readiness check and measurements on top.
 */
import { CERTS_DIR, makeBenchCerts, useBenchTls } from './bench-tls.js';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from './http.js';
import { benchNodeArgs, childrenCpuSeconds, freePort, killAll, makeTempDir, removeDir, startChild, waitFor, type Child } from './procs.js';

const REPO_ROOT = path.resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const MAIN_JS = path.join(REPO_ROOT, 'dist/src/cli/main.js');
export const SHARDS = 8;

export interface Endpoint {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

export class DataCluster {
  readonly coordinators: Endpoint[] = [];
  readonly nodes: Endpoint[] = [];
  /** Each coordinator's Raft peer port, by id (a partition must cut it too). */
  readonly peerPorts = new Map<string, number>();
  protected dir = '';
  /** The cluster file every process was started with. */
  protected file = '';
  protected readonly children = new Map<string, Child>();

  /** CPU seconds the cluster's running processes have used so far. */
  cpuSeconds(): number {
    return childrenCpuSeconds([...this.children.values()]);
  }

  constructor(
    private readonly opts: {
      readonly name: string;
      readonly nodeHostBase: number;
      readonly startTimeoutMs: number;
      readonly shards?: number;
      readonly nodeCount?: number;
      readonly coordinatorNodeArgs?: readonly string[];
      readonly settings?: Record<string, unknown>;
      /** Mutual TLS on every port; this process's bench requests and torua clients use the client certificate. */
      readonly tls?: boolean;
    },
  ) {}

  get shardCount(): number {
    return this.opts.shards ?? SHARDS;
  }

  /** Writes the cluster file and starts every coordinator, then every node. */
  protected async startProcesses(): Promise<void> {
    this.dir = await makeTempDir(`torua-${this.opts.name}-bench-`);
    await fsp.mkdir(path.join(this.dir, 'logs'));
    const coordinators = [];
    for (let i = 0; i < 3; i++) {
      const host = `127.0.0.${11 + i}`;
      const spec = { id: `c${i + 1}`, host, apiPort: await freePort(host), peerPort: await freePort(host) };
      coordinators.push(spec);
      this.coordinators.push({ id: spec.id, host, port: spec.apiPort });
      this.peerPorts.set(spec.id, spec.peerPort);
    }
    for (let i = 0; i < (this.opts.nodeCount ?? 3); i++) {
      const host = `127.0.0.${this.opts.nodeHostBase + i}`;
      this.nodes.push({ id: `n${i + 1}`, host, port: await freePort(host) });
    }
    const file = path.join(this.dir, 'cluster.json');
    this.file = file;
    const content = {
      clusterId: `${this.opts.name}-bench`,
      dataDir: path.join(this.dir, 'data'),
      shards: this.shardCount,
      replicationFactor: 2,
      coordinators,
      nodes: this.nodes.map((n) => ({ id: n.id, host: n.host, port: n.port, capacity: 16 })),
      logLevel: 'info',
      ...(this.opts.settings === undefined ? {} : { settings: this.opts.settings }),
      ...(this.opts.tls === true ? { tls: { dir: CERTS_DIR } } : {}),
    };
    if (this.opts.tls === true) {
      await makeBenchCerts(this.dir, content);
      useBenchTls(this.dir);
    }
    await fsp.writeFile(file, `${JSON.stringify(content, null, 2)}\n`);
    await Promise.all(this.coordinators.map((c) => this.spawn(c, ['coordinator', '--config', file, '--id', c.id], this.opts.coordinatorNodeArgs)));
    await Promise.all(this.nodes.map((n) => this.spawn(n, ['node', '--config', file, '--id', n.id])));
  }

  /** Starts a process of the file again (after it exited), under the same id, and waits for its /health. */
  async restart(id: string): Promise<void> {
    if (this.children.get(id)?.alive === true) throw new Error(`${id} is still running`);
    const coordinator = this.coordinators.find((c) => c.id === id);
    const node = this.nodes.find((n) => n.id === id);
    if (coordinator !== undefined) await this.spawn(coordinator, ['coordinator', '--config', this.file, '--id', id], this.opts.coordinatorNodeArgs);
    else if (node !== undefined) await this.spawn(node, ['node', '--config', this.file, '--id', id]);
    else throw new Error(`no process ${id} in the cluster file`);
  }

  private async spawn(e: Endpoint, args: readonly string[], nodeArgs: readonly string[] = []): Promise<void> {
    const child = startChild(`torua ${e.id}`, process.execPath, [...benchNodeArgs(), ...nodeArgs, MAIN_JS, ...args], path.join(this.dir, 'logs', `${e.id}.log`), { ...process.env, NODE_OPTIONS: '' });
    this.children.set(e.id, child);
    const up = await waitFor(
      `${e.id} to answer /health`,
      async () => (!child.alive ? false : (await request(false, e.host, e.port, 'GET', '/health', undefined, 500)).status === 200 ? true : undefined),
      this.opts.startTimeoutMs,
      25,
    ).catch((err: unknown) => String(err));
    if (up !== true) throw new Error(`${up === false ? `${e.id} exited before it answered /health` : up}\n${await this.logTails([e.id])}`);
  }

  /** The ids whose process has exited. */
  protected exited(): string[] {
    return [...this.children.entries()].filter(([, c]) => !c.alive).map(([id]) => id);
  }

  async logTails(ids: readonly string[], lines = 12): Promise<string> {
    const tails = await Promise.all(
      ids.map(async (id) => {
        const text = await fsp.readFile(path.join(this.dir, 'logs', `${id}.log`), 'utf8').catch(() => '');
        return `--- ${id} (last lines) ---\n${text.split('\n').slice(-lines).join('\n')}`;
      }),
    );
    return tails.join('\n');
  }

  /** Copies every process's log to `to` (created if need be): the temporary directory goes away with close(). */
  async copyLogs(to: string): Promise<void> {
    if (!this.dir) return;
    await fsp.cp(path.join(this.dir, 'logs'), to, { recursive: true });
  }

  async close(): Promise<void> {
    await killAll([...this.children.values()]);
    if (this.dir) await removeDir(this.dir);
    if (this.opts.tls === true) useBenchTls(undefined);
  }
}
