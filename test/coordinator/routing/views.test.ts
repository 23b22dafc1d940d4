import { describe, expect, test } from 'vitest';
import {
  availableCapacity,
  clusterCounts,
  clusterHealth,
  nodeShardCounts,
  nodeSummaries,
  shardsOfNode,
  type RoutingState,
} from '../../../src/coordinator/routing/index.js';
import { applyAll, assign, cmd, fresh, move, register, unhealthy, withNodes } from './helpers.js';

/** Two shards, replication factor 2, fully placed on n1..n3. */
const placed = (): RoutingState => applyAll(withNodes(['n1', 'n2', 'n3'], { shards: 2 }), [assign(0, 0, 'n1', ['n2']), assign(1, 0, 'n2', ['n3'])]);

describe('clusterHealth', () => {
  test('green: every shard has all its copies, in sync, on serving nodes', () => {
    expect(clusterHealth(placed())).toEqual({ status: 'green', reasons: [] });
  });

  test('yellow: a copy recovering, missing, or on a node that is down', () => {
    expect(clusterHealth(applyAll(placed(), [move(0, 1, 'n1', ['n3'])]))).toEqual({ status: 'yellow', reasons: ['shard 0: n3 recovering'] });
    expect(clusterHealth(applyAll(placed(), [move(1, 1, 'n2', [])])).reasons).toEqual(['shard 1 has 1 of 2 copies']);
    expect(clusterHealth(applyAll(placed(), [unhealthy('n3')])).reasons).toEqual(['shard 1: replica n3 cannot serve']);
  });

  test('red: a shard without a primary, or with its primary on a failed node; worst first', () => {
    const headless = applyAll(placed(), [move(0, 1, null, ['n2']), move(1, 1, 'n2', [])]);
    expect(clusterHealth(headless)).toEqual({ status: 'red', reasons: ['shard 0 has no primary', 'shard 1 has 1 of 2 copies'] });
    expect(clusterHealth(applyAll(placed(), [unhealthy('n1')]))).toEqual({ status: 'red', reasons: ['shard 0: primary n1 is unhealthy'] });
    expect(clusterHealth(fresh({ shards: 1 }))).toEqual({ status: 'red', reasons: ['shard 0 has no primary'] });
  });

  test('a replication factor raised at run time turns green to yellow', () => {
    const raised = applyAll(placed(), [cmd('updateSettings', { expectedVersion: 1, settings: { replicationFactor: 3 } })]);
    expect(clusterHealth(raised).status).toBe('yellow');
  });

  test('reasons are capped', () => {
    const reasons = clusterHealth(fresh({ shards: 50 })).reasons;
    expect(reasons).toHaveLength(10);
    expect(reasons.at(-1)).toBe('and 41 more');
  });
});

describe('counts and loads', () => {
  test('clusterCounts', () => {
    const state = applyAll(placed(), [register('n4'), register('n5'), cmd('setNodeStatus', { nodeId: 'n5', status: 'left' })]);
    expect(clusterCounts(state)).toEqual({ totalNodes: 4, healthyNodes: 3, totalShards: 2, assignedShards: 2 });
  });

  test('per-node shard counts, available capacity and shards', () => {
    const state = applyAll(placed(), [register('n4', { capacity: 1 })]);
    expect(nodeShardCounts(state)).toEqual({
      n1: { primaries: 1, replicas: 0, total: 1 },
      n2: { primaries: 1, replicas: 1, total: 2 },
      n3: { primaries: 0, replicas: 1, total: 1 },
      n4: { primaries: 0, replicas: 0, total: 0 },
    });
    expect(availableCapacity(state, 'n2')).toBe(6);
    expect(availableCapacity(state, 'n4')).toBe(1);
    expect(availableCapacity(state, 'n9')).toBe(0);
    expect(shardsOfNode(state, 'n2')).toEqual([
      { shard: 0, role: 'replica', inSync: true, epoch: 1 },
      { shard: 1, role: 'primary', inSync: true, epoch: 1 },
    ]);
    expect(nodeSummaries(state).map((n) => [n.id, n.shardCount, n.availableCapacity])).toEqual([
      ['n1', 1, 7],
      ['n2', 2, 6],
      ['n3', 1, 7],
      ['n4', 0, 1],
    ]);
  });

  test('a capacity lowered below what a node holds shows as none available', () => {
    const state = applyAll(placed(), [register('n2', { capacity: 1 })]);
    expect(availableCapacity(state, 'n2')).toBe(0);
  });
});
