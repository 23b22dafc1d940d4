// The driver's part of load balancing: node loads from the shards each node leads now, a node hot only after a
// whole window; the move proposed is the planner's, and the node then cools down.
import { describe, expect, it } from 'vitest';
import { planPlacement, type PlacementInput } from '../../../src/coordinator/placement/index.js';
import { COOL_DOWN_MS } from '../../../src/coordinator/placement-driver/hot-tracker.js';
import { Fencer, PlacementDriver, type MeasuredLoad } from '../../../src/coordinator/placement-driver/index.js';
import type { Command, RoutingState } from '../../../src/coordinator/routing/index.js';
import { silentLogger } from '../../../src/observability/index.js';
import { FakeCoordinatorService, registerCommand } from '../../api/fake-service.js';

class TestClock {
  constructor(public ms = 1_000_000) {}
  nowMs = () => this.ms;
}

describe('placement driver: load', () => {
  it('passes the loads to the planner once a node was hot for hotWindowMs, proposes the handoff, then cools the node down', async () => {
    const service = new FakeCoordinatorService({ shards: 2 });
    for (const id of ['n1', 'n2', 'n3']) {
      await service.propose(registerCommand(id));
      await service.propose({ type: 'setNodeStatus', atMs: 0, reason: 'probed', nodeId: id, status: 'healthy' });
    }
    const assign = (shardId: number, primary: string, replicas: string[]): Command => ({ type: 'assignShard', atMs: 0, reason: 't', shardId, expectedEpoch: 0, primary, replicas });
    await service.propose(assign(0, 'n1', ['n2']));
    await service.propose(assign(1, 'n1', ['n3']));
    const clock = new TestClock();
    // The old primary is fenced at once (its lease ran out long ago).
    const fencer = new Fencer({ handoffRetryMs: 0 }, { leases: { fencedAtMs: () => 0, markDemoting: () => undefined, releaseDemoting: () => undefined }, nodeLink: { handoff: () => Promise.reject(new Error('no node')) } as never, logger: silentLogger, clock });
    const inputs: PlacementInput[] = [];
    const plan = (state: RoutingState, input: PlacementInput) => (inputs.push(input), planPlacement(state, input));
    const measured: MeasuredLoad = { nodes: new Map([['n1', 200], ['n2', 10], ['n3', 10]]), shards: new Map([[0, 120], [1, 80]]) };
    const driver = new PlacementDriver({}, { service, fencer, logger: silentLogger, plan, clock, loads: () => measured });
    const windowMs = service.state.config.settings.placement.hotWindowMs;

    expect((await driver.runRound()).proposed).toEqual([]);
    // The loads reach every round (the trim of a relocation reads them); no node is hot yet.
    expect(inputs.at(-1)?.load?.hot).toEqual([]);
    clock.ms += windowMs;
    const round = await driver.runRound();
    // Node loads are those of the shards each leads now (n1: 120 + 80; n2, n3: none), not the nodes' own windows.
    expect(inputs.at(-1)?.load?.nodes).toEqual(new Map([['n1', 200], ['n2', 0], ['n3', 0]]));
    expect(inputs.at(-1)?.load?.hot).toEqual([{ node: 'n1', ratio: 3 }]);
    expect(round.proposed).toEqual([expect.objectContaining({ type: 'promotePrimary', shardId: 0, nodeId: 'n2', reason: expect.stringMatching(/^load: n1 at 3× mean/) })]);
    expect(service.state.shards[0]?.primary).toBe('n2');
    // The reports still say n1 carries 200 (their window holds the load it handed over): the table says 80 now,
    // so nothing more moves, during the cool-down or after it.
    for (const step of [COOL_DOWN_MS - 1, 1, windowMs]) {
      clock.ms += step;
      expect((await driver.runRound()).proposed).toEqual([]);
      expect(inputs.at(-1)?.load?.nodes.get('n1')).toBe(80);
    }
  });
});
