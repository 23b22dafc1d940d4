import { describe, expect, it } from 'vitest';
import type { HistoryOp } from '../../scripts/chaos/history.js';
import type { TimelineEntry } from '../../scripts/chaos/faults.js';
import { closingLines, countOutcomes, failovers, unavailabilityPerShard } from '../../scripts/chaos/report.js';
import { chooseKeys } from '../../scripts/chaos/workload.js';
import { shardForKey } from '../../src/common/key-hash.js';

const op = (o: Partial<HistoryOp> & Pick<HistoryOp, 'op' | 'key' | 'invoke'>): HistoryOp => ({
  client: 0,
  value: o.op === 'put' ? 'v' : null,
  complete: o.invoke + 1,
  outcome: 'ok',
  ...o,
});

const entry = (n: number, kind: string, atMs: number, leaderBefore: string): TimelineEntry => ({
  n,
  kind,
  target: leaderBefore,
  leaderBefore,
  startedAtMs: atMs,
  healedAtMs: atMs + 2_000,
  note: '',
  skipped: false,
});

describe('chaos report', () => {
  it('measures a failover to the first majority leader other than the old one, and to the first write after the fault', () => {
    const observations = [
      { atMs: 0, leader: 'c1', term: 2 },
      { atMs: 1_050, leader: undefined, term: undefined },
      { atMs: 1_400, leader: 'c2', term: 3 },
    ];
    const history = [op({ op: 'put', key: 'k0', invoke: 900, complete: 950 }), op({ op: 'get', key: 'k0', invoke: 1_100, complete: 1_200 }), op({ op: 'put', key: 'k0', invoke: 1_300, complete: 1_600 })];
    const [f] = failovers([entry(1, 'kill-leader', 1_000, 'c1'), entry(2, 'kill-node', 1_000, 'c1')], observations, history);
    expect(f).toEqual({ n: 1, kind: 'kill-leader', from: 'c1', to: 'c2', newLeaderMs: 400, firstWriteMs: 600 });
  });

  it('counts the same leader re-elected in a later term as a failover, and none when it stayed', () => {
    const history: HistoryOp[] = [];
    const again = failovers([entry(1, 'stop-leader', 1_000, 'c1')], [{ atMs: 0, leader: 'c1', term: 2 }, { atMs: 3_000, leader: 'c1', term: 4 }], history);
    expect(again[0]).toMatchObject({ to: 'c1', newLeaderMs: 2_000 });
    const stayed = failovers([entry(1, 'stop-leader', 1_000, 'c1')], [{ atMs: 0, leader: 'c1', term: 2 }], history);
    expect(stayed[0]).toMatchObject({ to: undefined, newLeaderMs: undefined, firstWriteMs: undefined });
  });

  it('finds the longest gap between acknowledged operations per shard, the window edges included', () => {
    const [a, b] = chooseKeys(2, 2);
    const shardOf = (k: string) => shardForKey(k, 2);
    const history = [
      op({ op: 'put', key: a!, invoke: 0, complete: 1_000 }),
      op({ op: 'get', key: a!, invoke: 1_000, complete: 4_000, outcome: 'fail' }),
      op({ op: 'get', key: a!, invoke: 5_000, complete: 6_000 }),
    ];
    const gaps = unavailabilityPerShard(history, shardOf, 2, 0, 10_000);
    expect(gaps[shardOf(a!)]).toMatchObject({ gapMs: 5_000, fromMs: 1_000, toMs: 6_000, okOps: 2 });
    expect(gaps[shardOf(b!)]).toMatchObject({ gapMs: 10_000, okOps: 0 });
  });

  it('chooses keys that cover every shard', () => {
    const keys = chooseKeys(8, 10);
    expect(keys.length).toBeGreaterThanOrEqual(10);
    expect(new Set(keys.map((k) => shardForKey(k, 8))).size).toBe(8);
  });

  it('counts outcomes per op kind and prints the closing line, with the replay command on failure', () => {
    const c = countOutcomes([op({ op: 'put', key: 'k', invoke: 0 }), op({ op: 'put', key: 'k', invoke: 0, outcome: 'unknown', complete: null }), op({ op: 'delete', key: 'k', invoke: 0, outcome: 'fail' })]);
    expect(c.put).toEqual({ ok: 1, fail: 0, unknown: 1 });
    expect(c.delete).toEqual({ ok: 0, fail: 1, unknown: 0 });
    expect(closingLines({ linearizable: 'yes', lost: 0, converged: true }, { seed: 3, durationS: 60, extra: '' })).toEqual(['chaos: linearizable=yes lost=0 converged=yes']);
    const failed = closingLines({ linearizable: 'no', lost: 1, converged: true }, { seed: 3, durationS: 60, extra: ' --no-partitions' });
    expect(failed).toEqual(['chaos: FAILED with seed 3; replay: npm run chaos -- --duration 60 --seed 3 --no-partitions', 'chaos: linearizable=no lost=1 converged=yes']);
  });
});
