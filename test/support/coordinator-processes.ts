/**
 * Real coordinator processes for the client and CLI integration tests: a
 * temporary cluster file on free loopback ports, each replica and node a
 * child of the launcher (scripts/launch), its output in a log file of the
 * temporary directory. One-shot CLI runs (`torua status`, `torua token …`)
 * go through `torua()`. Every process a test starts (replicas, nodes,
 * `torua cluster up` and the children it reports) is killed by PID after
 * the test, failed or not, and the directory removed; a failed test prints
 * the end of each log.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterEach, expect } from 'vitest';
import { pidAlive, type Child } from '../../scripts/launch/child.js';
import { LaunchGroup } from '../../scripts/launch/group.js';
import { freePorts as freePortsOn } from '../../scripts/launch/ports.js';
import { layoutCoordinators, layoutNodes, MAIN_JS, toruaChild, writeClusterFile } from '../../scripts/launch/torua-cluster-file.js';
import { waitFor as waitForState } from './wait-for.js';

export { MAIN_JS, REPO_ROOT as REPO } from '../../scripts/launch/torua-cluster-file.js';

const HOST = '127.0.0.1';

/** Distinct free ports on 127.0.0.1. */
export function freePorts(count: number): Promise<number[]> {
  return freePortsOn(count, HOST);
}

export { pidAlive as isAlive } from '../../scripts/launch/child.js';

/** waitFor for real processes: 30 s by default, polled every 50 ms. */
export function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  return waitForState(what, probe, { timeoutMs, intervalMs: 50 });
}

export interface Replica {
  readonly id: string;
  readonly address: string;
}

export class TestCluster {
  readonly replicas: Replica[];
  /** PIDs to kill after the test besides the launcher's children (one-shot runs, the children `cluster up` reported). */
  readonly extraPids = new Set<number>();
  /** Log files of the one-shot runs. */
  readonly logs: string[] = [];
  readonly dir: string;

  constructor(
    private readonly group: LaunchGroup,
    readonly configPath: string,
    coordinators: readonly { id: string; apiPort: number }[],
  ) {
    this.dir = group.dir;
    this.replicas = coordinators.map((c) => ({ id: c.id, address: `${HOST}:${c.apiPort}` }));
  }

  get addresses(): string[] {
    return this.replicas.map((r) => r.address);
  }

  replica(id: string): Replica {
    const r = this.replicas.find((x) => x.id === id);
    if (r === undefined) throw new Error(`no replica ${id}`);
    return r;
  }

  /** Runs a one-shot `torua ARGS…` from the compiled code, output to a log file of the test's directory; the caller awaits it. */
  torua(name: string, args: readonly string[], options: { pipeStdout?: boolean } = {}): ResultPromise {
    const log = path.join(this.dir, `${name}.log`);
    this.logs.push(log);
    const child = execa(process.execPath, [MAIN_JS, ...args], {
      cwd: this.dir,
      reject: false,
      stdin: 'ignore',
      stdout: options.pipeStdout ? 'pipe' : { file: log },
      stderr: { file: `${log}.err` },
    });
    this.logs.push(`${log}.err`);
    if (child.pid !== undefined) this.extraPids.add(child.pid);
    return child;
  }

  /** Starts a long-lived `torua ARGS…` (a replica, a node, `cluster up`) as a launcher child named `name` (a new life if it ran before). */
  launch(name: string, args: readonly string[]): Child {
    const child = this.group.has(name) ? this.group.child(name) : this.group.add(toruaChild(name, args, { cwd: this.dir }));
    child.start();
    return child;
  }

  start(id: string): void {
    this.replica(id);
    this.launch(id, ['coordinator', '--config', this.configPath, '--id', id]);
  }

  startAll(): void {
    for (const r of this.replicas) this.start(r.id);
  }

  startNode(id: string): void {
    this.launch(id, ['node', '--config', this.configPath, '--id', id]);
  }

  async kill(id: string, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    if (this.group.has(id)) await this.group.child(id).stop(signal);
  }

  async close(failed: boolean): Promise<void> {
    for (const pid of this.extraPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await waitFor('every process of the test to exit', () => ([...this.extraPids].some(pidAlive) ? undefined : true), 10_000);
    if (failed) {
      for (const log of this.logs) {
        if (!fs.existsSync(log)) continue;
        const lines = fs.readFileSync(log, 'utf8').trimEnd().split('\n').slice(-15);
        console.error(`--- ${path.basename(log)} (last lines)\n${lines.join('\n')}`);
      }
      for (const c of this.group.children) console.error(`--- ${c.name} (last lines)\n${c.tail(15).join('\n')}`);
    }
    await this.group.close();
  }
}

/** `create()` a cluster file (not started); every cluster is closed after its test. */
export function useTestClusters(): { create(options?: { replicas?: number; nodes?: number }): Promise<TestCluster> } {
  const open: TestCluster[] = [];
  afterEach(async (context) => {
    const failed = context.task.result?.state === 'fail';
    await Promise.all(open.splice(0).map((c) => c.close(failed)));
  });
  return {
    async create(options = {}) {
      const n = options.replicas ?? 3;
      const nodes = options.nodes ?? 0;
      const coordinators = await layoutCoordinators(n, () => HOST);
      const nodeEntries = await layoutNodes(nodes, () => HOST, { capacity: 8 });
      const group = await LaunchGroup.create({ prefix: 'torua-client-it-' });
      const configPath = path.join(group.dir, 'cluster.json');
      await writeClusterFile(configPath, { clusterId: 'client-it', dataDir: path.join(group.dir, 'data'), shards: 4, replicationFactor: 1, coordinators, nodes: nodeEntries, logLevel: 'info' });
      const cluster = new TestCluster(group, configPath, coordinators);
      open.push(cluster);
      return cluster;
    },
  };
}

export function expectBuilt(): void {
  expect(fs.existsSync(MAIN_JS), `${MAIN_JS} is missing: run \`npm run build\` first`).toBe(true);
}
