// The primary's catch-up log: what a replica back from a restart gets instead of a full copy, and when it must get the full copy.
import { describe, expect, it } from 'vitest';
import { CatchUpLog } from '../../src/datanode/primary/catch-up-log.js';
import type { ReplicatedOp } from '../../src/datanode/contract.js';

const ops = (from: number, to: number, value = 'dg=='): ReplicatedOp[] => Array.from({ length: to - from + 1 }, (_, i) => ({ seq: from + i, key: `k${from + i}`, value }));

describe('CatchUpLog', () => {
  it('replays exactly the ops after the replica’s seq, in bounded batches', () => {
    const log = new CatchUpLog(10);
    log.append(ops(11, 2_500));
    const batches = log.since(100, 2_500)!;
    expect(batches.flat().map((o) => o.seq)).toEqual(ops(101, 2_500).map((o) => o.seq));
    expect(batches.every((b) => b.length <= 1_000)).toBe(true);
    expect(log.since(2_500, 2_500)).toEqual([]);
    // From where the primary took over (a handoff): everything it wrote.
    expect(log.since(10, 2_500)!.flat()).toHaveLength(2_490);
  });

  it('refuses what it cannot vouch for: before its start, beyond the primary, or when it does not reach the primary’s last seq', () => {
    const log = new CatchUpLog(10);
    log.append(ops(11, 20));
    expect(log.since(9, 20)).toBeUndefined();
    expect(log.since(21, 20)).toBeUndefined();
    expect(log.since(12, 25)).toBeUndefined();
  });

  it('keeps the newest ops within its bounds; a gap starts it over', () => {
    const log = new CatchUpLog(0, 100, 1_000_000);
    log.append(ops(1, 250));
    expect(log.startSeq).toBe(150);
    expect(log.since(149, 250)).toBeUndefined();
    expect(log.since(150, 250)!.flat()).toHaveLength(100);
    const small = new CatchUpLog(0, 1_000, 50);
    small.append(ops(1, 20, 'x'.repeat(10)));
    expect(small.startSeq).toBeGreaterThan(10);
    const gap = new CatchUpLog(0);
    gap.append(ops(1, 5));
    gap.append(ops(9, 12));
    expect(gap.startSeq).toBe(8);
    expect(gap.since(5, 12)).toBeUndefined();
  });
});
