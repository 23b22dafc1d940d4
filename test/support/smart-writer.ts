/** A writer through the smart client (routing table cached, retries on its own), for tests that change the cluster under it. */
import type { KvClient } from '../../src/client/index.js';
import { sleep, waitFor } from './cluster-harness.js';

/** A smart-client writer: fresh keys one after another, bounded in count and time; a put that throws failed beyond the client's retries. */
export class SmartWriter {
  readonly acked = new Map<string, string>();
  readonly failures: string[] = [];
  private stopped = false;
  private running: Promise<void> | undefined;
  constructor(private readonly kv: KvClient) {}

  start(maxWrites = 20_000, maxDurationMs = 150_000, prefix = 'm'): this {
    const until = performance.now() + maxDurationMs;
    this.running = (async () => {
      for (let n = 0; !this.stopped && n < maxWrites && performance.now() < until; n++) {
        const key = `${prefix}-${n}`;
        const value = `${key}@${Date.now()}`;
        try {
          await this.kv.put(key, value);
          this.acked.set(key, value);
        } catch (e) {
          if (this.failures.length < 50) this.failures.push(`${key}: ${e instanceof Error ? e.message : String(e)}`);
        }
        await sleep(5);
      }
    })();
    return this;
  }

  async waitForAcks(count: number, timeoutMs = 30_000): Promise<void> {
    const target = this.acked.size + count;
    await waitFor(`${target} acknowledged writes`, () => (this.acked.size >= target ? true : undefined), { timeoutMs, describe: () => this.failures.slice(-3).join('; ') });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}

