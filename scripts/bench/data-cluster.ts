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
import { request } from './http.js';
import { benchNodeArgs, benchStopSignal } from './node-args.js';
import type { Child } from '../launch/child.js';
import { LaunchGroup } from '../launch/group.js';
import { loopbackAlias } from '../launch/ports.js';
import { layoutCoordinators, layoutNodes, toruaChild, writeClusterFile, type ClusterFile } from '../launch/torua-cluster-file.js';

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
  protected group: LaunchGroup | undefined;
  /** The cluster file every process was started with. */
  protected file = '';

  /** CPU seconds the cluster's running processes have used so far. */
  cpuSeconds(): number {
    return this.group?.cpuSeconds() ?? 0;
  }

  /** The temporary directory (cluster file, data, logs/). */
  protected get dir(): string {
    if (this.group === undefined) throw new Error(`the ${this.opts.name} cluster is not started`);
    return this.group.dir;
  }

  /** The process of `id` (a coordinator, a node, or another child of the group). */
  protected childOf(id: string): Child | undefined {
    return this.group?.has(id) === true ? this.group.child(id) : undefined;
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
    this.group = await LaunchGroup.create({ prefix: `torua-${this.opts.name}-bench-`, stopSignal: benchStopSignal(this.opts.coordinatorNodeArgs), output: 'file' });
    const coordinators = await layoutCoordinators(3);
    for (const c of coordinators) {
      this.coordinators.push({ id: c.id, host: c.host, port: c.apiPort });
      this.peerPorts.set(c.id, c.peerPort);
    }
    const nodes = await layoutNodes(this.opts.nodeCount ?? 3, (i) => loopbackAlias(this.opts.nodeHostBase + i));
    this.nodes.push(...nodes.map((n) => ({ id: n.id, host: n.host, port: n.port })));
    this.file = path.join(this.dir, 'cluster.json');
    const content: ClusterFile = {
      clusterId: `${this.opts.name}-bench`,
      dataDir: path.join(this.dir, 'data'),
      shards: this.shardCount,
      replicationFactor: 2,
      coordinators,
      nodes,
      logLevel: 'info',
      ...(this.opts.settings === undefined ? {} : { settings: this.opts.settings }),
      ...(this.opts.tls === true ? { tls: { dir: CERTS_DIR } } : {}),
    };
    if (this.opts.tls === true) {
      await makeBenchCerts(this.dir, content);
      useBenchTls(this.dir);
    }
    await writeClusterFile(this.file, content);
    await Promise.all(this.coordinators.map((c) => this.spawn(c, 'coordinator', this.opts.coordinatorNodeArgs)));
    await Promise.all(this.nodes.map((n) => this.spawn(n, 'node')));
  }

  /** Starts a process of the file again (after it exited), under the same id, and waits for its /health. */
  async restart(id: string): Promise<void> {
    const child = this.childOf(id);
    if (child === undefined) throw new Error(`no process ${id} in the cluster file`);
    if (child.alive) throw new Error(`${id} is still running`);
    child.start();
    await this.waitUp(child, this.endpointOf(id));
  }

  private endpointOf(id: string): Endpoint {
    const e = this.coordinators.find((c) => c.id === id) ?? this.nodes.find((n) => n.id === id);
    if (e === undefined) throw new Error(`no process ${id} in the cluster file`);
    return e;
  }

  private async spawn(e: Endpoint, kind: 'coordinator' | 'node', nodeArgs: readonly string[] = []): Promise<void> {
    const child = this.group!.start(toruaChild(e.id, [kind, '--config', this.file, '--id', e.id], { nodeArgs: [...benchNodeArgs(), ...nodeArgs] }));
    await this.waitUp(child, e);
  }

  private async waitUp(child: Child, e: Endpoint): Promise<void> {
    await child.waitReady('it to answer /health', async () => (await request(false, e.host, e.port, 'GET', '/health', undefined, 500)).status === 200, { timeoutMs: this.opts.startTimeoutMs });
  }

  /** The ids whose process has exited. */
  protected exited(): string[] {
    return (this.group?.children ?? []).filter((c) => !c.alive).map((c) => c.name);
  }

  async logTails(ids: readonly string[], lines = 12): Promise<string> {
    return ids.map((id) => `--- ${id} (last lines) ---\n${(this.childOf(id)?.tail(lines) ?? []).join('\n')}`).join('\n');
  }

  /** Copies every process's log to `to` (created if need be): the temporary directory goes away with close(). */
  async copyLogs(to: string): Promise<void> {
    if (this.group === undefined) return;
    await fsp.cp(this.group.logsDir, to, { recursive: true });
  }

  async close(): Promise<void> {
    await this.group?.close();
    if (this.opts.tls === true) useBenchTls(undefined);
  }
}
