/**
 * Smart-client writers for the benches and the real-process tests that
 * measure what a fault costs the data path: W loops putting fresh keys
 * (`<tag>-<writer>-<n>`, value `<key>@<wall time>`) back to back through one
 * KvClient, each put recorded with when it was sent and answered. Then the
 * longest gap between acknowledgements in a window, and a read-back of every
 * acknowledged key. Bounded in count; the caller stops them.
 */
import { shardForKey } from '../../src/common/key-hash.js';
import type { KvClient } from '../../src/client/index.js';

export interface Put {
  readonly key: string;
  readonly value: string;
  readonly shard: number;
  /** performance.now() when the put was sent and when its answer (or failure) came. */
  readonly sentAt: number;
  readonly doneAt: number;
  readonly ok: boolean;
  /** Why it failed, if it did. */
  readonly error?: string;
}

export interface WriterOptions {
  readonly tag: string;
  readonly writers: number;
  /** The cluster's shard count, to say which shard each key is in. */
  readonly shards: number;
  /** Each writer rests this long between puts (default 5): enough resolution for gaps, little load on a shared machine. */
  readonly pauseMs?: number;
  readonly maxPutsPerWriter?: number;
}

const DEFAULT_PAUSE_MS = 5;
const DEFAULT_MAX_PUTS_PER_WRITER = 20_000;
const READ_BACK_CONCURRENCY = 32;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts the writers; `stop()` ends them after their put in flight and hands back every put. */
export function startWriters(kv: KvClient, opts: WriterOptions): { stop(): Promise<Put[]>; readonly puts: readonly Put[] } {
  let stopped = false;
  const all: Put[] = [];
  const max = opts.maxPutsPerWriter ?? DEFAULT_MAX_PUTS_PER_WRITER;
  const loops = Array.from({ length: opts.writers }, async (_, w) => {
    for (let n = 0; !stopped && n < max; n++) {
      const key = `${opts.tag}-${w}-${n}`;
      const value = `${key}@${Date.now()}`;
      const sentAt = performance.now();
      const error = await kv.put(key, value).then(
        () => undefined,
        (e: unknown) => String(e).split('\n')[0]!,
      );
      all.push({ key, value, shard: shardForKey(key, opts.shards), sentAt, doneAt: performance.now(), ok: error === undefined, ...(error === undefined ? {} : { error }) });
      await sleep(opts.pauseMs ?? DEFAULT_PAUSE_MS);
    }
  });
  return {
    puts: all,
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return all;
    },
  };
}

/** The longest time between two acknowledgements in [fromMs, toMs] (the window's edges count as acknowledgements). */
export function maxGap(puts: readonly Put[], fromMs: number, toMs: number): number {
  const acks = puts.filter((p) => p.ok && p.doneAt >= fromMs && p.doneAt <= toMs).map((p) => p.doneAt);
  acks.sort((a, b) => a - b);
  let gap = 0;
  let last = fromMs;
  for (const t of [...acks, toMs]) {
    gap = Math.max(gap, t - last);
    last = t;
  }
  return gap;
}

/** Acknowledged puts whose key does not read back with its value, as `key: what was read`. */
export async function lostOf(kv: KvClient, puts: readonly Put[]): Promise<string[]> {
  const acked = puts.filter((p) => p.ok);
  const lost: string[] = [];
  for (let i = 0; i < acked.length; i += READ_BACK_CONCURRENCY) {
    await Promise.all(
      acked.slice(i, i + READ_BACK_CONCURRENCY).map(async (p) => {
        const got = await kv.getText(p.key).then(
          (v) => v ?? 'absent',
          (e: unknown) => `error ${String(e).split('\n')[0]}`,
        );
        if (got !== p.value) lost.push(`${p.key}: ${got}`);
      }),
    );
  }
  return lost;
}
