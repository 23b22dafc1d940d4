import { describe, expect, it } from 'vitest';
import { LeaseTable, RecoveryBoard } from '../../../src/coordinator/leases/index.js';
import { driftMarginMs } from '../../../src/coordinator/leases/lease-table.js';
import { apply, initialState, type Command, type RoutingState } from '../../../src/coordinator/routing/index.js';

/** The clock-rate margin at a 1 s lease. */
const M = driftMarginMs(1_000);

describe('lease table', () => {
  it('fences nobody while not leader', () => {
    const t = new LeaseTable();
    expect(t.grant('n1', 1_000, 500)).toBeUndefined();
    expect(t.fencedAtMs('n1', 500)).toBe(Number.POSITIVE_INFINITY);
  });

  it('a new leader waits one lease from its election for nodes it never granted', () => {
    const t = new LeaseTable();
    t.becameLeader(10_000);
    expect(t.fencedAtMs('n1', 1_000)).toBe(11_000 + M);
  });

  it('a grant counts from its receipt; the later of grant end and election plus lease wins', () => {
    const t = new LeaseTable();
    t.becameLeader(10_000);
    expect(t.grant('n1', 10_700, 1_000)).toBe(11_700);
    expect(t.fencedAtMs('n1', 1_000)).toBe(11_700 + M);
    // An early grant ends before election + lease: the election bound still holds.
    expect(t.grant('n2', 10_100, 500)).toBe(10_600);
    expect(t.fencedAtMs('n2', 1_000)).toBe(11_000 + M);
  });

  it('remembers when each node last renewed in this reign (the monitor\'s proof of life), the latest receipt winning', () => {
    const t = new LeaseTable();
    t.grant('n1', 500, 1_000);
    expect(t.renewedAtMs('n1')).toBeUndefined();
    t.becameLeader(1_000);
    t.grant('n1', 1_200, 1_000);
    t.grant('n1', 1_100, 1_000);
    expect(t.renewedAtMs('n1')).toBe(1_200);
    expect(t.renewedAtMs('n2')).toBeUndefined();
    t.becameLeader(2_000);
    expect(t.renewedAtMs('n1')).toBeUndefined();
    t.grant('n1', 2_100, 1_000);
    t.reset();
    expect(t.renewedAtMs('n1')).toBeUndefined();
  });

  it('a delayed answer to an older renewal never shortens the record', () => {
    const t = new LeaseTable();
    t.becameLeader(0);
    t.grant('n1', 5_000, 1_000);
    expect(t.grant('n1', 4_000, 1_000)).toBe(6_000);
    expect(t.fencedAtMs('n1', 1_000)).toBe(6_000 + M);
  });

  it('forgets everything when leadership is lost, and starts over at the next election', () => {
    const t = new LeaseTable();
    t.becameLeader(0);
    t.grant('n1', 50_000, 1_000);
    t.reset();
    expect(t.isLeader).toBe(false);
    expect(t.fencedAtMs('n1', 1_000)).toBe(Number.POSITIVE_INFINITY);
    t.becameLeader(60_000);
    expect(t.fencedAtMs('n1', 1_000)).toBe(61_000 + M);
  });

  it('the clock-rate margin is a fiftieth of the lease, at least 5 ms', () => {
    expect(driftMarginMs(1_000)).toBe(20);
    expect(driftMarginMs(50)).toBe(5);
    expect(driftMarginMs(60_000)).toBe(1_200);
  });

  it('a renewal being checked counts as a grant from its receipt until it is answered', () => {
    const t = new LeaseTable();
    t.becameLeader(0);
    t.grant('n1', 5_000, 1_000);
    const checking = t.renewing('n1', 5_800, 1_000);
    expect(t.fencedAtMs('n1', 1_000)).toBe(6_800 + M);
    checking.done();
    // Refused after all (no grant recorded): the node's last grant is what counts again.
    expect(t.fencedAtMs('n1', 1_000)).toBe(6_000 + M);
    checking.done();
    expect(t.fencedAtMs('n1', 1_000)).toBe(6_000 + M);
  });

  it('a demotion stays pending until the table shows the shard past the marked epoch or led by another node', () => {
    const t = new LeaseTable();
    t.becameLeader(0);
    t.markDemoting('n1', 3, 7);
    t.markDemoting('n1', 4, 2);
    const epochs = new Map([
      [3, 7],
      [4, 2],
    ]);
    const primaries = new Map<number, string | null>([
      [3, 'n1'],
      [4, 'n1'],
    ]);
    const pending = () => t.pendingDemotions('n1', (s) => epochs.get(s), (s) => primaries.get(s));
    expect(pending()).toEqual([3, 4]);
    epochs.set(3, 8);
    expect(pending()).toEqual([4]);
    // Back at the marked epoch cannot happen (epochs only grow); a settled mark stays forgotten anyway.
    epochs.set(3, 7);
    expect(pending()).toEqual([4]);
    primaries.set(4, 'n2');
    expect(pending()).toEqual([]);
    expect(t.pendingDemotions('n2', () => 0, () => 'n2')).toEqual([]);
  });

  it('a refused demotion is released (only the one marked at that epoch); leadership changes forget them all', () => {
    const t = new LeaseTable();
    t.becameLeader(0);
    t.markDemoting('n1', 3, 7);
    const same = () => t.pendingDemotions('n1', () => 7, () => 'n1');
    t.releaseDemoting('n1', 3, 6);
    expect(same()).toEqual([3]);
    t.releaseDemoting('n1', 3, 7);
    expect(same()).toEqual([]);
    t.markDemoting('n1', 3, 7);
    t.reset();
    expect(same()).toEqual([]);
    // Not leader: nothing is marked.
    t.markDemoting('n1', 3, 7);
    expect(same()).toEqual([]);
    t.becameLeader(10_000);
    t.markDemoting('n1', 3, 7);
    t.becameLeader(20_000);
    expect(same()).toEqual([]);
  });
});

describe('recovery board', () => {
  function tableWithRecovery(): RoutingState {
    let s = initialState({ clusterId: 't', shards: 2, members: [{ id: 'c1', host: '127.0.0.1', apiPort: 7001, peerPort: 7101 }] });
    const run = (c: Command) => (s = apply(s, c, { index: 1, term: 1 }).state);
    for (const id of ['n1', 'n2', 'n3']) run({ type: 'registerNode', atMs: 0, reason: 't', nodeId: id, address: '127.0.0.1:8001', capacity: 4, version: '' });
    run({ type: 'assignShard', atMs: 0, reason: 't', shardId: 0, expectedEpoch: 0, primary: 'n1', replicas: ['n2'] });
    run({ type: 'moveShard', atMs: 0, reason: 't', shardId: 0, expectedEpoch: 1, primary: 'n1', replicas: ['n2', 'n3'] });
    return s;
  }

  it('shows the progress of a recovering copy while it is fresh, and nothing for in-sync copies', () => {
    const state = tableWithRecovery();
    const board = new RecoveryBoard();
    board.record('n3', [{ shard: 0, copiedKeys: 10, totalKeys: 40 }], 1_000);
    board.record('n2', [{ shard: 0, copiedKeys: 1, totalKeys: 1 }], 1_000);
    expect(board.recoveryOf(state, 0, 1_500, 3_000)).toEqual({ node: 'n3', copiedKeys: 10, totalKeys: 40 });
    expect(board.recoveryOf(state, 1, 1_500, 3_000)).toBeNull();
    expect(board.recoveryOf(state, 0, 4_001, 3_000)).toBeNull();
    board.record('n3', [], 2_000);
    expect(board.recoveryOf(state, 0, 2_000, 3_000)).toBeNull();
  });
});
