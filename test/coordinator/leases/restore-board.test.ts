import { describe, expect, test } from 'vitest';
import { planAdoption, RestoreBoard, type HeldCopyReport } from '../../../src/coordinator/leases/restore-board.js';
import type { RoutingState } from '../../../src/coordinator/routing/index.js';
import { applyAll, assign, withNodes } from '../routing/helpers.js';

/** Shard 0 on n1 (primary) + n2 at epoch 1; shard 1 on n2 + n3 at epoch 1. */
const table = (): RoutingState => applyAll(withNodes(['n1', 'n2', 'n3', 'n4']), [assign(0, 0, 'n1', ['n2']), assign(1, 0, 'n2', ['n3'])]);
const held = (shard: number, epoch: number, lastSeq: number, primary: string | null, inSync = true): HeldCopyReport => ({ shard, epoch, lastSeq, primary, inSync });

describe('planAdoption', () => {
  test('a shard held at a newer epoch is taken from its holders: the primary kept, every newer copy listed, at an epoch above all', () => {
    const reports = new Map([
      ['n1', []],
      ['n3', [held(0, 6, 90, 'n3'), held(1, 1, 10, 'n2')]],
      ['n4', [held(0, 6, 90, 'n3')]],
      ['n2', [held(0, 4, 50, 'n1', false), held(1, 1, 10, 'n2')]],
    ]);
    expect(planAdoption(table(), reports)).toEqual([
      { shardId: 0, expectedEpoch: 1, epoch: 7, primary: 'n3', replicas: ['n2', 'n4'], inSync: ['n3', 'n4'] },
    ]);
  });

  test('with the newest primary silent, the in-sync copy with the most writes becomes primary; its peers must recover', () => {
    const reports = new Map([
      ['n2', [held(0, 5, 70, 'n1')]],
      ['n4', [held(0, 5, 80, 'n1')]],
    ]);
    expect(planAdoption(table(), reports)).toEqual([{ shardId: 0, expectedEpoch: 1, epoch: 6, primary: 'n4', replicas: ['n2'], inSync: ['n4'] }]);
  });

  test('no in-sync copy at the newest epoch: listed, none promoted; copies no newer than the table and unknown nodes are ignored', () => {
    const reports = new Map([
      ['n2', [held(0, 5, 70, 'n1', false), held(1, 1, 99, 'n2')]],
      ['n9', [held(0, 9, 100, 'n9')]],
    ]);
    expect(planAdoption(table(), reports)).toEqual([{ shardId: 0, expectedEpoch: 1, epoch: 6, primary: null, replicas: ['n2'], inSync: [] }]);
  });
});

describe('RestoreBoard', () => {
  test('ready once every node that has not left reported, or once the wait is over', () => {
    const board = new RestoreBoard();
    const s = table();
    expect(board.ready(s, 0, 1_000)).toBe(false);
    board.record('n1', [], 100);
    board.record('n2', [], 150);
    expect(board.missing(s)).toEqual(['n3', 'n4']);
    expect(board.ready(s, 500, 1_000)).toBe(false);
    expect(board.ready(s, 1_100, 1_000)).toBe(true);
    board.record('n3', [], 200);
    board.record('n4', [], 200);
    expect(board.ready(s, 200, 1_000)).toBe(true);
    board.clear();
    expect(board.missing(s)).toHaveLength(4);
  });
});
