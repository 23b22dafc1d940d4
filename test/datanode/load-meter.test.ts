// The node's per-shard load over its sliding window, and what the leader makes of the reports.
import { describe, expect, it } from 'vitest';
import { LoadMeter } from '../../src/datanode/load-meter.js';
import { LoadBoard, requestsPerS } from '../../src/coordinator/leases/index.js';

describe('LoadMeter', () => {
  it('reports per-second rates over the window and forgets what fell out of it', () => {
    let now = 100_000;
    const meter = new LoadMeter({ nowMs: () => now }, 10);
    for (let i = 0; i < 50; i++) meter.record(3, 'read', 100);
    for (let i = 0; i < 20; i++) meter.record(3, 'write', 1_000);
    meter.record(5, 'write', 10);
    expect(meter.report()).toEqual([
      { shard: 3, readsPerS: 5, writesPerS: 2, bytesPerS: 2_500 },
      { shard: 5, readsPerS: 0, writesPerS: 0.1, bytesPerS: 1 },
    ]);
    now += 5_000;
    for (let i = 0; i < 10; i++) meter.record(5, 'read', 0);
    expect(meter.report().map((r) => [r.shard, r.readsPerS + r.writesPerS])).toEqual([
      [3, 7],
      [5, 1.1],
    ]);
    // Ten seconds on, the first second's traffic is out of the window.
    now += 5_500;
    expect(meter.report()).toEqual([{ shard: 5, readsPerS: 1, writesPerS: 0, bytesPerS: 0 }]);
    now += 20_000;
    expect(meter.report()).toEqual([]);
  });
});

describe('LoadBoard', () => {
  it('sums a node over its shards and a shard over its nodes, fresh reports only; an older node reporting nothing is not idle', () => {
    const board = new LoadBoard();
    board.record('n1', [{ shard: 0, readsPerS: 10, writesPerS: 5, bytesPerS: 100 }, { shard: 1, readsPerS: 1, writesPerS: 0, bytesPerS: 0 }], 1_000);
    board.record('n2', [{ shard: 0, readsPerS: 2, writesPerS: 0, bytesPerS: 20 }], 1_000);
    board.record('n3', undefined, 1_000);
    expect(board.nodeLoad('n1', 1_500, 3_000)).toEqual({ readsPerS: 11, writesPerS: 5, bytesPerS: 100 });
    expect(board.nodeLoad('n3', 1_500, 3_000)).toBeNull();
    expect(requestsPerS(board.shardLoads(1_500, 3_000).get(0)!)).toBe(17);
    expect(board.nodeLoad('n1', 5_000, 3_000)).toBeNull();
    expect(board.shardLoads(5_000, 3_000).size).toBe(0);
  });
});
