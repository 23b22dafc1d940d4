/**
 * What a node serves per shard over a sliding window: reads, writes and
 * value bytes per second, reported with each lease renewal so the leader can
 * see hot shards and hot nodes. Buckets of one second in a ring, per shard:
 * memory is bounded by the shards the node serves, and a report reads only
 * the window.
 */
import type { Clock } from '../common/clock.js';
import type { ShardLoad } from './contract.js';

const BUCKET_MS = 1_000;
/** The window: this many whole buckets. */
const DEFAULT_BUCKETS = 10;

interface Bucket {
  startMs: number;
  reads: number;
  writes: number;
  bytes: number;
}

export class LoadMeter {
  private readonly shards = new Map<number, Bucket[]>();

  constructor(
    private readonly clock: Clock,
    private readonly buckets = DEFAULT_BUCKETS,
  ) {}

  record(shard: number, op: 'read' | 'write', bytes: number): void {
    const now = this.clock.nowMs();
    const start = now - (now % BUCKET_MS);
    let ring = this.shards.get(shard);
    if (ring === undefined) {
      ring = Array.from({ length: this.buckets }, () => ({ startMs: -Infinity, reads: 0, writes: 0, bytes: 0 }));
      this.shards.set(shard, ring);
    }
    const b = ring[Math.floor(start / BUCKET_MS) % this.buckets] as Bucket;
    if (b.startMs !== start) Object.assign(b, { startMs: start, reads: 0, writes: 0, bytes: 0 });
    if (op === 'read') b.reads++;
    else b.writes++;
    b.bytes += bytes;
  }

  /** Per-second rates over the window, per shard with any traffic in it; shards quiet for a whole window are forgotten. */
  report(): ShardLoad[] {
    const now = this.clock.nowMs();
    const windowMs = this.buckets * BUCKET_MS;
    const out: ShardLoad[] = [];
    for (const [shard, ring] of this.shards) {
      let reads = 0;
      let writes = 0;
      let bytes = 0;
      for (const b of ring) {
        if (now - b.startMs >= windowMs) continue;
        reads += b.reads;
        writes += b.writes;
        bytes += b.bytes;
      }
      if (reads + writes === 0) {
        this.shards.delete(shard);
        continue;
      }
      const perS = (n: number) => Math.round((n * 1000 * 100) / windowMs) / 100;
      out.push({ shard, readsPerS: perS(reads), writesPerS: perS(writes), bytesPerS: perS(bytes) });
    }
    return out.sort((a, b) => a.shard - b.shard);
  }
}
