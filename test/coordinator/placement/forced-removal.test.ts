// Forced removal: a node taken out now, its primaries handed over first, refused if data would be lost.
import { describe, expect, it } from 'vitest';
import { planForcedRemoval } from '../../../src/coordinator/placement/index.js';
import { copiesOf } from '../../../src/coordinator/routing/index.js';
import { ClusterErrorCode, isClusterError } from '../../../src/errors/index.js';
import { T0, applyCommand, applyRound, cluster, copiesOn, setStatus, settle } from './helpers.js';

const NOW = T0 + 100_000;

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('planForcedRemoval', () => {
  it('promotes first where the node is primary, drops its replicas, and after a second call holds nothing', () => {
    const placed = settle(cluster(6, ['n1', 'n2', 'n3'])).state;
    const first = planForcedRemoval(placed, 'n1', NOW);
    const led = placed.shards.filter((s) => s.primary === 'n1').map((s) => s.id);
    const promotions = first.filter((s) => s.command.type === 'promotePrimary');
    expect(promotions.map((s) => ('shardId' in s.command ? s.command.shardId : -1))).toEqual(led);
    expect(promotions.every((s) => s.demotes === 'n1')).toBe(true);
    expect(first.filter((s) => s.command.type === 'moveShard').every((s) => s.demotes === null)).toBe(true);

    const promoted = applyRound(placed, first);
    const second = planForcedRemoval(promoted, 'n1', NOW);
    expect(second.map((s) => s.command.type)).toEqual(Array(led.length).fill('moveShard'));
    const out = applyRound(promoted, second);
    expect(copiesOn(out, 'n1')).toBe(0);
    expect(planForcedRemoval(out, 'n1', NOW)).toEqual([]);
    // Now the table lets the node go.
    applyCommand(out, { type: 'removeNode', atMs: NOW, reason: 'test', nodeId: 'n1' });
  });

  it('throws CONFLICT naming the shard when the node holds its only copy', () => {
    const placed = settle(cluster(3, ['n1', 'n2', 'n3'], { replicationFactor: 1 })).state;
    const sole = placed.shards.find((s) => s.primary === 'n2');
    if (sole === undefined) throw new Error('n2 leads no shard');
    const e = thrown(() => planForcedRemoval(placed, 'n2', NOW));
    expect(isClusterError(e, ClusterErrorCode.Conflict)).toBe(true);
    if (!isClusterError(e, ClusterErrorCode.Conflict)) return;
    expect(e.type.reason).toBe('LAST_COPY');
    expect(e.message).toBe(`shard ${sole.id} has no other in-sync copy: removing n2 would lose its data`);
  });

  it('names every such shard', () => {
    const placed = settle(cluster(4, ['n1'], { replicationFactor: 1 })).state;
    const e = thrown(() => planForcedRemoval(placed, 'n1', NOW));
    expect(e).toMatchObject({ message: 'shards 0, 1, 2, 3 have no other in-sync copy: removing n1 would lose their data' });
  });

  it('counts a replica that is not in sync as no copy', () => {
    let state = settle(cluster(1, ['n1', 'n2'])).state;
    const shard = state.shards[0];
    if (shard === undefined || shard.primary === null) throw new Error('unplaced');
    const replica = shard.replicas[0] as string;
    state = applyCommand(state, { type: 'setInSync', atMs: NOW, reason: 'lagging', shardId: 0, expectedEpoch: shard.epoch, nodeId: replica, inSync: false });
    expect(isClusterError(thrown(() => planForcedRemoval(state, shard.primary as string, NOW)), ClusterErrorCode.Conflict)).toBe(true);
    // The lagging replica itself may go.
    const drop = planForcedRemoval(state, replica, NOW);
    expect(copiesOf(applyRound(state, drop).shards[0] ?? shard)).toEqual([shard.primary]);
  });

  it('hands the primary to an in-sync copy on a failed node rather than lose the data', () => {
    let state = settle(cluster(1, ['n1', 'n2'])).state;
    const shard = state.shards[0];
    if (shard === undefined || shard.primary === null) throw new Error('unplaced');
    const replica = shard.replicas[0] as string;
    state = setStatus(state, replica, 'unhealthy', NOW);
    const steps = planForcedRemoval(state, shard.primary, NOW);
    expect(steps).toHaveLength(1);
    expect(steps[0]?.demotes).toBe(shard.primary);
    expect(applyRound(state, steps).shards[0]).toMatchObject({ primary: replica, replicas: [] });
  });

  it('returns [] for a node that holds nothing or is unknown', () => {
    const placed = settle(cluster(2, ['n1', 'n2'])).state;
    expect(planForcedRemoval(placed, 'n9', NOW)).toEqual([]);
  });
});
