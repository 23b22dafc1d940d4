import { describe, expect, it } from 'vitest';
import { leaseGrant } from '../../src/api/coordinator/wire/lease-grant.js';
import { leaseGrantSchema } from '../../src/api/datanode/answers.js';
import type { Renewed } from '../../src/coordinator/leases/index.js';
import { planPlacement } from '../../src/coordinator/placement/index.js';
import { apply, copiesOf, initialState, type Command, type RoutingState } from '../../src/coordinator/routing/index.js';

const T0 = 1_000_000;

function must(state: RoutingState, c: Command): RoutingState {
  const out = apply(state, c, { index: 1, term: 1 });
  if (!out.result.ok) throw new Error(`${c.type} refused: ${out.result.message}`);
  return out.state;
}

/** `nodes` healthy nodes in three zones and every one of `shards` shards placed with RF 3. */
function placedTable(nodes: number, shards: number): RoutingState {
  let state = initialState({ clusterId: 'grant-test', shards, settings: { replicationFactor: 3 } });
  for (let i = 0; i < nodes; i++) {
    const base = { atMs: T0, reason: 'test', nodeId: `n${i + 1}` };
    state = must(state, { type: 'registerNode', ...base, address: `127.0.0.1:${20_000 + i}`, capacity: shards, version: '', labels: { zone: `z${i % 3}` } });
    state = must(state, { type: 'setNodeStatus', ...base, status: 'healthy' });
  }
  for (let round = 0; round < 1_000; round++) {
    const steps = planPlacement(state, { nowMs: T0 + 60_000 });
    if (steps.length === 0) return state;
    for (const step of steps) state = must(state, step.command);
  }
  throw new Error('placement did not settle');
}

const renewed = (state: RoutingState, id: string): Renewed => ({ state, node: state.nodes[id]!, leaseMs: 1_000, leader: 'c1', leaderAddress: '127.0.0.1:9000', term: 3 });

/** What a grant must list, by a plain scan of the table. */
function scanned(state: RoutingState, id: string) {
  const shards = state.shards.filter((s) => copiesOf(s).includes(id)).map((s) => ({ id: s.id, epoch: s.epoch, primary: s.primary, replicas: s.replicas, inSync: s.inSync }));
  const addresses = Object.fromEntries([...new Set(shards.flatMap((s) => copiesOf(s)))].map((n) => [n, state.nodes[n]!.address]));
  return { shards, addresses };
}

describe('lease grants', () => {
  const table = placedTable(12, 64);

  it('lists every shard the node holds a copy of, and the address of every node those shards name, as a scan of the table does', () => {
    for (const id of Object.keys(table.nodes)) {
      const grant = leaseGrant(renewed(table, id));
      const expected = scanned(table, id);
      expect(grant.shards.length).toBeGreaterThan(0);
      expect(grant.shards).toEqual(expected.shards);
      expect(grant.addresses).toEqual(expected.addresses);
      expect(leaseGrantSchema.safeParse(JSON.parse(JSON.stringify(grant))).success).toBe(true);
    }
  });

  it('follows a shard that moved: a grant on the next table shows its new epoch and copies', () => {
    const shard = table.shards[5]!;
    const leaving = shard.replicas[0]!;
    const moved = must(table, { type: 'setNodeStatus', atMs: T0 + 1, reason: 'test', nodeId: leaving, status: 'unhealthy', confirmedBy: ['c1'], voters: 1 });
    let after = moved;
    for (const step of planPlacement(moved, { nowMs: T0 + 120_000 })) after = must(after, step.command);
    expect(after.shards).not.toBe(table.shards);
    for (const id of Object.keys(after.nodes)) {
      expect(leaseGrant(renewed(after, id)).shards).toEqual(scanned(after, id).shards);
      // The older table's grants are still its own.
      expect(leaseGrant(renewed(table, id)).shards).toEqual(scanned(table, id).shards);
    }
  });

  describe('the table epoch of every shard', () => {
    const id = 'n1';
    const listed = scanned(table, id).shards;
    const held = (shards: readonly number[]) => shards.map((shard) => ({ shard, epoch: 1, lastSeq: 0, primary: null, inSync: true }));
    const unlisted = table.shards.find((s) => !copiesOf(s).includes(id))!.id;

    it('goes to a node that does not report what it holds', () => {
      const grant = leaseGrant(renewed(table, id), {});
      expect(grant.shardEpochs).toEqual(table.shards.map((s) => s.epoch));
      expect(leaseGrant(renewed(table, id)).shardEpochs).toHaveLength(64);
    });

    it('goes to a node that holds a copy the grant does not list (it decides whether to keep it by that epoch)', () => {
      const grant = leaseGrant(renewed(table, id), { holdings: held([...listed.map((s) => s.id), unlisted]) });
      expect(grant.shardEpochs).toEqual(table.shards.map((s) => s.epoch));
      expect(leaseGrantSchema.safeParse(JSON.parse(JSON.stringify(grant))).success).toBe(true);
    });

    it('is left out when every copy the node holds is listed, or it holds none', () => {
      for (const holdings of [held(listed.map((s) => s.id)), held(listed.slice(1).map((s) => s.id)), []]) {
        const grant = leaseGrant(renewed(table, id), { holdings });
        expect(grant).not.toHaveProperty('shardEpochs');
        expect(grant.shards).toEqual(listed);
        expect(leaseGrantSchema.safeParse(JSON.parse(JSON.stringify(grant))).success).toBe(true);
      }
    });
  });
});
