/**
 * A steady writer on the data path: puts fresh keys (`<prefix>-<n>`, value
 * `<prefix>-<n>@<time>`) one after another through the coordinators in turn,
 * and keeps every acknowledged pair, so a test can check afterwards that no
 * acknowledged write is lost. Bounded in count and time.
 */
import { dataRequest, type DataAnswer } from './data-http.js';

export interface KvWriterOptions {
  readonly prefix: string;
  /** Coordinator (or node) addresses, used in turn. */
  readonly via: readonly string[];
  readonly intervalMs?: number;
  readonly maxWrites?: number;
  readonly maxDurationMs?: number;
}

export class KvWriter {
  private readonly acked = new Map<string, string>();
  private readonly failures: string[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;
  private attempts = 0;

  constructor(private readonly opts: KvWriterOptions) {}

  start(): this {
    const { prefix, via, intervalMs = 5, maxWrites = 20_000, maxDurationMs = 120_000 } = this.opts;
    const until = performance.now() + maxDurationMs;
    this.running = (async () => {
      for (let n = 0; !this.stopped && n < maxWrites && performance.now() < until; n++) {
        const key = `${prefix}-${n}`;
        const value = `${key}@${Date.now()}`;
        this.attempts++;
        const a: DataAnswer = await dataRequest(via[n % via.length]!, 'PUT', key, value, { timeoutMs: 5_000 });
        if (a.status === 204) this.acked.set(key, value);
        else if (this.failures.length < 50) this.failures.push(`${key}: ${a.status} ${a.code ?? a.failure ?? ''}`);
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    })();
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** Acknowledged key → value. */
  ackedPairs(): ReadonlyMap<string, string> {
    return this.acked;
  }

  get attempted(): number {
    return this.attempts;
  }

  /** The first refused or failed writes (at most 50), for messages. */
  get failed(): readonly string[] {
    return this.failures;
  }

  /** Resolves once `count` more writes were acknowledged (deadline `timeoutMs`). */
  async waitForAcks(count: number, timeoutMs = 30_000): Promise<void> {
    const target = this.acked.size + count;
    const until = performance.now() + timeoutMs;
    while (this.acked.size < target) {
      if (performance.now() > until) throw new Error(`only ${this.acked.size} of ${target} writes acknowledged within ${timeoutMs} ms; failures: ${this.failures.slice(-5).join('; ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
