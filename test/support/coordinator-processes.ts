/**
 * Real coordinator processes for the client and CLI integration tests: a
 * temporary cluster file on free loopback ports, each replica started from
 * the compiled code (`npm run build` first) with execa, its output in a log
 * file of the temporary directory. Every process a test starts (replicas,
 * `torua cluster up`, the children it reports) is killed by PID after the
 * test, failed or not, and the directory removed; a failed test prints the
 * end of each log.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterEach, expect } from 'vitest';
import { MAIN_JS } from './cluster-harness.js';
import { waitFor as waitForState } from './wait-for.js';

export { MAIN_JS, REPO_ROOT as REPO } from './cluster-harness.js';

const HOST = '127.0.0.1';

/** Distinct free ports: all held open until every one is chosen, so none is handed out twice. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, HOST, () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** waitFor for real processes: 30 s by default, polled every 50 ms. */
export function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  return waitForState(what, probe, { timeoutMs, intervalMs: 50 });
}

export interface Replica {
  readonly id: string;
  readonly address: string;
  process: ResultPromise | undefined;
}

export class TestCluster {
  readonly replicas: Replica[];
  /** PIDs to kill after the test besides the replicas' (cluster up and the children it reported). */
  readonly extraPids = new Set<number>();
  readonly logs: string[] = [];

  constructor(
    readonly dir: string,
    readonly configPath: string,
    coordinators: readonly { id: string; apiPort: number }[],
  ) {
    this.replicas = coordinators.map((c) => ({ id: c.id, address: `${HOST}:${c.apiPort}`, process: undefined }));
  }

  get addresses(): string[] {
    return this.replicas.map((r) => r.address);
  }

  replica(id: string): Replica {
    const r = this.replicas.find((x) => x.id === id);
    if (r === undefined) throw new Error(`no replica ${id}`);
    return r;
  }

  /** Runs `torua ARGS…` from the compiled code, output to a log file of the test's directory; the caller awaits or kills it. */
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

  start(id: string): void {
    const r = this.replica(id);
    r.process = this.torua(id, ['coordinator', '--config', this.configPath, '--id', id]);
  }

  startAll(): void {
    for (const r of this.replicas) this.start(r.id);
  }

  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const r = this.replica(id);
    r.process?.kill(signal);
    await r.process;
    r.process = undefined;
  }

  async close(failed: boolean): Promise<void> {
    const pids = new Set([...this.extraPids, ...this.replicas.flatMap((r) => (r.process?.pid === undefined ? [] : [r.process.pid]))]);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await waitFor('every process of the test to exit', () => ([...pids].some(isAlive) ? undefined : true), 10_000);
    if (failed) {
      for (const log of this.logs) {
        if (!fs.existsSync(log)) continue;
        const lines = fs.readFileSync(log, 'utf8').trimEnd().split('\n').slice(-15);
        console.error(`--- ${path.basename(log)} (last lines)\n${lines.join('\n')}`);
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
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
      const ports = await freePorts(2 * n + nodes);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torua-client-it-'));
      const coordinators = Array.from({ length: n }, (_, i) => ({ id: `c${i + 1}`, host: HOST, apiPort: ports[2 * i] as number, peerPort: ports[2 * i + 1] as number }));
      const nodeEntries = Array.from({ length: nodes }, (_, i) => ({ id: `n${i + 1}`, host: HOST, port: ports[2 * n + i] as number, capacity: 8 }));
      const configPath = path.join(dir, 'cluster.json');
      const file = { clusterId: 'client-it', dataDir: path.join(dir, 'data'), shards: 4, replicationFactor: 1, coordinators, nodes: nodeEntries, logLevel: 'info' };
      fs.writeFileSync(configPath, JSON.stringify(file, null, 2));
      const cluster = new TestCluster(dir, configPath, coordinators);
      open.push(cluster);
      return cluster;
    },
  };
}

export function expectBuilt(): void {
  expect(fs.existsSync(MAIN_JS), `${MAIN_JS} is missing: run \`npm run build\` first`).toBe(true);
}
