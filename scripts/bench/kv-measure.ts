/** Closed-loop load for the KV bench: N workers back to back, bounded in time and count, with latency percentiles. */
import { now, sleep } from '../launch/wait-for.js';

export interface KvRate {
  readonly perSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** CPU µs per acknowledged operation: the system's processes, and this process (the clients). */
  readonly systemCpuUs?: number;
  readonly clientCpuUs?: number;
}

/** One request by `worker` (its `seq`-th); true when the system acknowledged it. */
export type KvOp = (worker: number, seq: number) => Promise<boolean>;

/** No cell issues more than this, however fast the system is. */
const MAX_OPS_PER_CELL = 2_000_000;
/** A worker whose request failed waits this long: a failing system is not measured by how fast it says no. */
const ERROR_PAUSE_MS = 5;

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export async function measureCell(workers: number, seconds: number, op: KvOp): Promise<KvRate> {
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  const started = now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      for (let seq = 0; now() < deadline && issued < MAX_OPS_PER_CELL; seq++) {
        issued++;
        const t0 = now();
        if (await op(worker, seq)) latencies.push(now() - t0);
        else {
          errors++;
          await sleep(ERROR_PAUSE_MS);
        }
      }
    }),
  );
  const elapsedSec = (now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSec: latencies.length / elapsedSec, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

/** A short run first opens the connections; then the measured one, with the CPU spent per operation when `cpuSeconds` tells the system's. */
export async function warmThenMeasure(workers: number, seconds: number, op: KvOp, cpuSeconds?: () => number): Promise<KvRate> {
  await measureCell(workers, Math.min(0.3, seconds), op);
  const systemBefore = cpuSeconds?.() ?? 0;
  const clientBefore = process.cpuUsage();
  const started = now();
  const rate = await measureCell(workers, seconds, op);
  const ops = (rate.perSec * (now() - started)) / 1000;
  if (cpuSeconds === undefined || ops < 1) return rate;
  const client = process.cpuUsage(clientBefore);
  return { ...rate, systemCpuUs: ((cpuSeconds() - systemBefore) * 1e6) / ops, clientCpuUs: (client.user + client.system) / ops };
}
