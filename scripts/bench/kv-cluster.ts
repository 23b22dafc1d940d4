/**
 * The cluster the KV bench measures: 3 coordinators (127.0.0.11–13) and 3
 * data nodes (127.0.0.31–33) as real processes from dist/, RF 2, 8 shards,
 * with a temporary cluster file. Ready once every shard has a primary and an
 * in-sync replica; a cluster that is not ready within READY_TIMEOUT_MS ends
 * the bench with what it lacked and the last lines of each process's log.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseJson, request } from './http.js';
import { freePort, killAll, log, makeTempDir, now, removeDir, sleep, startChild, waitFor, type Child } from './procs.js';

const REPO_ROOT = path.resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const MAIN_JS = path.join(REPO_ROOT, 'dist/src/cli/main.js');
export const READY_TIMEOUT_MS = 30_000;
const SHARDS = 8;

export interface Endpoint {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

interface ShardView {
  readonly id: number;
  readonly primary: string | null;
  readonly in_sync: readonly string[];
}

export class KvBenchCluster {
  readonly coordinators: Endpoint[] = [];
  readonly nodes: Endpoint[] = [];
  private dir = '';
  private readonly children = new Map<string, Child>();

  /** `host:port` of every coordinator, for the smart client. */
  get coordinatorAddresses(): string[] {
    return this.coordinators.map((c) => `${c.host}:${c.port}`);
  }

  async start(): Promise<void> {
    this.dir = await makeTempDir('torua-kv-bench-');
    await fsp.mkdir(path.join(this.dir, 'logs'));
    const coordinators = [];
    for (let i = 0; i < 3; i++) {
      const host = `127.0.0.${11 + i}`;
      const spec = { id: `c${i + 1}`, host, apiPort: await freePort(host), peerPort: await freePort(host) };
      coordinators.push(spec);
      this.coordinators.push({ id: spec.id, host, port: spec.apiPort });
    }
    for (let i = 0; i < 3; i++) {
      const host = `127.0.0.${31 + i}`;
      this.nodes.push({ id: `n${i + 1}`, host, port: await freePort(host) });
    }
    const file = path.join(this.dir, 'cluster.json');
    const content = {
      clusterId: 'kv-bench',
      dataDir: path.join(this.dir, 'data'),
      shards: SHARDS,
      replicationFactor: 2,
      coordinators,
      nodes: this.nodes.map((n) => ({ id: n.id, host: n.host, port: n.port, capacity: 16 })),
      logLevel: 'info',
    };
    await fsp.writeFile(file, `${JSON.stringify(content, null, 2)}\n`);
    const started = now();
    await Promise.all(this.coordinators.map((c) => this.spawn(c, ['coordinator', '--config', file, '--id', c.id])));
    await Promise.all(this.nodes.map((n) => this.spawn(n, ['node', '--config', file, '--id', n.id])));
    await this.waitReady(READY_TIMEOUT_MS - (now() - started));
  }

  private async spawn(e: Endpoint, args: readonly string[]): Promise<void> {
    const logFile = path.join(this.dir, 'logs', `${e.id}.log`);
    const child = startChild(`torua ${e.id}`, process.execPath, [MAIN_JS, ...args], logFile, { ...process.env, NODE_OPTIONS: '' });
    this.children.set(e.id, child);
    const up = await waitFor(
      `${e.id} to answer /health`,
      async () => (!child.alive ? false : (await request(false, e.host, e.port, 'GET', '/health', undefined, 500)).status === 200 ? true : undefined),
      READY_TIMEOUT_MS,
      25,
    ).catch((err: unknown) => String(err));
    if (up !== true) throw new Error(`${up === false ? `${e.id} exited before it answered /health` : up}\n${await this.logTails([e.id])}`);
  }

  /** Every shard with a primary and at least one in-sync replica, as a coordinator's table says. */
  private async waitReady(timeoutMs: number): Promise<void> {
    let lacking = 'no answer to GET /shards yet';
    const deadline = now() + Math.max(0, timeoutMs);
    for (let i = 0; i < 100_000 && now() < deadline; i++) {
      const dead = [...this.children.entries()].filter(([, c]) => !c.alive).map(([id]) => id);
      if (dead.length > 0) throw new Error(`the cluster did not come up: ${dead.join(', ')} exited\n${await this.logTails(dead)}`);
      const c = this.coordinators[i % this.coordinators.length] as Endpoint;
      const a = await request(false, c.host, c.port, 'GET', '/shards', undefined, 1_000);
      const shards = (parseJson(a.text) as { shards?: ShardView[] } | undefined)?.shards;
      if (a.status === 200 && Array.isArray(shards)) {
        const notReady = shards.filter((s) => s.primary === null || s.in_sync.filter((id) => id !== s.primary).length < 1);
        if (notReady.length === 0 && shards.length === SHARDS) {
          log(`kv bench: cluster ready (${SHARDS} shards, each with a primary and an in-sync replica)`);
          return;
        }
        lacking = `${notReady.length} of ${shards.length} shards lack a primary or an in-sync replica (${notReady
          .slice(0, 3)
          .map((s) => `shard ${s.id}: primary ${s.primary ?? 'none'}, in sync [${s.in_sync.join(',')}]`)
          .join('; ')})`;
      } else if (a.status !== 0) lacking = `GET /shards on ${c.id}: ${a.status} ${a.text.slice(0, 200)}`;
      await sleep(100);
    }
    throw new Error(`the cluster did not come up within ${READY_TIMEOUT_MS / 1000} s: ${lacking}\n${await this.logTails([...this.children.keys()])}`);
  }

  private async logTails(ids: readonly string[]): Promise<string> {
    const tails = await Promise.all(
      ids.map(async (id) => {
        const text = await fsp.readFile(path.join(this.dir, 'logs', `${id}.log`), 'utf8').catch(() => '');
        return `--- ${id} (last lines) ---\n${text.split('\n').slice(-8).join('\n')}`;
      }),
    );
    return tails.join('\n');
  }

  async close(): Promise<void> {
    await killAll([...this.children.values()]);
    if (this.dir) await removeDir(this.dir);
  }
}
