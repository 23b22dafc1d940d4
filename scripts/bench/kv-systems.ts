/**
 * The three ways the KV bench writes and reads 100-byte values: the smart
 * client (straight to each key's primary), a coordinator's REST `/data`
 * (which forwards to the primary), and etcd's v3 JSON gateway (puts to the
 * leader, linearizable ranges spread over the members).
 */
import type http from 'node:http';
import { createKvClient, type KvClient } from '../../src/client/index.js';
import { createKvAgent, sendRaw, type RawResult } from '../../src/data-wire/http-exchange.js';
import { keepAliveAgent, request } from './http.js';
import type { KvBenchCluster } from './kv-cluster.js';
import type { KvOp } from './kv-measure.js';
import { memberOf, waitForLeader, type EtcdCluster } from './systems.js';

export const VALUE_BYTES = 100;
const VALUE = Buffer.alloc(VALUE_BYTES, 'v');
/** Keys the torua workloads spread over (all shards); every one is written before any is read. */
const KEYS = 1_024;
/** What EtcdCluster.start creates and its read() reads: k0 … k63. */
const ETCD_KEYS = 64;
const TIMEOUT_MS = 5_000;

export interface KvWorkload {
  readonly label: string;
  readonly put: KvOp;
  readonly get: KvOp;
  /** CPU seconds the system's processes have used so far (for the CPU per operation). */
  readonly cpuSeconds?: () => number;
  /** Why requests failed, with counts (the first MAX_FAILURE_KINDS kinds). */
  readonly failures?: () => string[];
  close(): void;
}

const MAX_FAILURE_KINDS = 8;

const keyOf = (worker: number, seq: number): string => `bench-${(worker * 131 + seq) % KEYS}`;
const acknowledged = (p: Promise<unknown>): Promise<boolean> => p.then(
  () => true,
  () => false,
);

export function smartClientWorkload(cluster: KvBenchCluster): KvWorkload & { prefill(): Promise<void> } {
  const kv: KvClient = createKvClient({ coordinators: cluster.coordinatorAddresses, timeoutMs: TIMEOUT_MS });
  return {
    label: 'smart client',
    put: (w, s) => acknowledged(kv.put(keyOf(w, s), VALUE)),
    get: (w, s) => kv.get(keyOf(w, s)).then((v) => v !== null, () => false),
    async prefill() {
      for (let k = 0; k < KEYS; k += 32) {
        await Promise.all(Array.from({ length: Math.min(32, KEYS - k) }, (_, i) => kv.put(`bench-${k + i}`, VALUE)));
      }
    },
    close: () => kv.close(),
  };
}

/** Worker w talks to coordinator w mod 3. */
export function coordinatorRestWorkload(cluster: KvBenchCluster): KvWorkload {
  const agent = createKvAgent(256, undefined, ['coordinator']);
  const at = (w: number) => cluster.coordinators[w % cluster.coordinators.length] as { host: string; port: number };
  const path = (w: number, s: number) => `/data/${encodeURIComponent(keyOf(w, s))}`;
  const failures = new Map<string, number>();
  const check = (r: RawResult, expected: number): boolean => {
    if (r.kind === 'answer' && r.status === expected) return true;
    const why = r.kind === 'answer' ? `${r.status} ${r.body.toString('utf8').slice(0, 120)}` : r.kind === 'no-answer' ? r.reason : r.kind;
    if (failures.size < MAX_FAILURE_KINDS || failures.has(why)) failures.set(why, (failures.get(why) ?? 0) + 1);
    return false;
  };
  return {
    label: 'coordinator REST',
    put: (w, s) => sendRaw(agent, at(w), { method: 'PUT', path: path(w, s), body: VALUE, timeoutMs: TIMEOUT_MS, maxBodyBytes: VALUE_BYTES }).then((r) => check(r, 204)),
    get: (w, s) => sendRaw(agent, at(w), { method: 'GET', path: path(w, s), timeoutMs: TIMEOUT_MS, maxBodyBytes: 1024 }).then((r) => check(r, 200)),
    failures: () => [...failures].map(([why, n]) => `${n}× ${why}`),
    close: () => agent.destroy(),
  };
}

export async function etcdWorkload(sys: EtcdCluster): Promise<KvWorkload> {
  const leader = memberOf(sys, await waitForLeader(sys));
  const putAgent = keepAliveAgent(256);
  const readAgents: http.Agent[] = sys.members.map(() => keepAliveAgent(256));
  const value = VALUE.toString('base64');
  const key = (w: number) => Buffer.from(`k${w % ETCD_KEYS}`).toString('base64');
  return {
    label: 'etcd',
    put: (w) =>
      request(putAgent, leader.host, leader.port, 'POST', '/v3/kv/put', { key: key(w), value }, TIMEOUT_MS).then((a) => a.status === 200 && !a.text.includes('"error"')),
    get: (w) => sys.read(readAgents[w % readAgents.length] as http.Agent, sys.members[w % sys.members.length]!, w, false, TIMEOUT_MS),
    close: () => {
      putAgent.destroy();
      for (const a of readAgents) a.destroy();
    },
  };
}
