/**
 * The cluster the KV bench measures: 3 coordinators (127.0.0.11–13) and 3
 * data nodes (127.0.0.31–33) as real processes from dist/, RF 2, 8 shards,
 * with a temporary cluster file. Ready once every shard has a primary and an
 * in-sync replica; a cluster that is not ready within READY_TIMEOUT_MS ends
 * the bench with what it lacked and the last lines of each process's log.
 */
import { parseJson, request } from './http.js';
import { log } from '../launch/log.js';
import { now, sleep } from '../launch/wait-for.js';
import { DataCluster, SHARDS, type Endpoint } from './data-cluster.js';

export type { Endpoint };
export const READY_TIMEOUT_MS = 30_000;
const CERTS_ALLOWANCE_MS = 30_000;

interface ShardView {
  readonly id: number;
  readonly primary: string | null;
  readonly in_sync: readonly string[];
}

export class KvBenchCluster extends DataCluster {
  constructor(private readonly tls = false) {
    super({ name: 'kv', nodeHostBase: 31, startTimeoutMs: READY_TIMEOUT_MS, tls });
  }

  /** `host:port` of every coordinator, for the smart client. */
  get coordinatorAddresses(): string[] {
    return this.coordinators.map((c) => `${c.host}:${c.port}`);
  }

  async start(): Promise<void> {
    const started = now();
    await this.startProcesses();
    // Making the certificates (openssl, a few seconds on a busy machine) does not count against the start.
    await this.waitReady(READY_TIMEOUT_MS + (this.tls ? CERTS_ALLOWANCE_MS : 0) - (now() - started));
  }

  /** Every shard with a primary and at least one in-sync replica, as a coordinator's table says. */
  private async waitReady(timeoutMs: number): Promise<void> {
    let lacking = 'no answer to GET /shards yet';
    const deadline = now() + Math.max(0, timeoutMs);
    for (let i = 0; i < 100_000 && now() < deadline; i++) {
      const dead = this.exited();
      if (dead.length > 0) throw new Error(`the cluster did not come up: ${dead.join(', ')} exited\n${await this.logTails(dead, 8)}`);
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
    throw new Error(`the cluster did not come up within ${READY_TIMEOUT_MS / 1000} s: ${lacking}\n${await this.logTails([...this.coordinators, ...this.nodes].map((e) => e.id), 8)}`);
  }
}
