import { afterEach, describe, expect, it } from 'vitest';
import { NodeControl } from '../../../src/coordinator/node-control.js';
import type { NodeLink } from '../../../src/coordinator/node-link.js';
import type { PlannedStep } from '../../../src/coordinator/placement/index.js';
import { Fencer, PlacementDriver, type FencingFactory, type PlanFunction } from '../../../src/coordinator/placement-driver/index.js';
import type { Command, RoutingState } from '../../../src/coordinator/routing/index.js';
import { silentLogger } from '../../../src/observability/index.js';
import { SimTime } from '../../../src/common/sim-time.js';
import { FakeCoordinatorService, registerCommand } from '../../api/fake-service.js';
import { waitFor } from '../../api/helpers.js';

const assign = (shardId: number, expectedEpoch: number, primary: string, replicas: string[] = []): Command => ({
  type: 'assignShard',
  atMs: 0,
  reason: `place shard ${shardId}`,
  shardId,
  expectedEpoch,
  primary,
  replicas,
});

const step = (command: Command, demotes: string | null = null): PlannedStep => ({ command, demotes });

class TestClock {
  constructor(public ms = 1_000_000) {}
  nowMs = () => this.ms;
}

/** A node link that answers or fails handoffs as told, and records them. */
class TestNodeLink implements NodeLink {
  readonly calls: { address: string; shard: number; epoch: number }[] = [];
  answers = true;
  /** What the node says of its writes (absent: an older node that does not say). */
  caughtUp: boolean | undefined = undefined;
  async handoff(address: string, req: { shard: number; epoch: number }) {
    this.calls.push({ address, ...req });
    if (!this.answers) throw new Error('connect ECONNREFUSED');
    return this.caughtUp === undefined ? { lastSeq: 7 } : { lastSeq: 7, caughtUp: this.caughtUp };
  }
  async probe(): Promise<never> {
    throw new Error('the placement driver does not probe');
  }
}

async function serviceWithNodes(): Promise<FakeCoordinatorService> {
  const service = new FakeCoordinatorService({ shards: 4 });
  for (const id of ['n1', 'n2', 'n3']) await service.propose(registerCommand(id));
  return service;
}

function driverFor(service: FakeCoordinatorService, plan: PlanFunction, options: { fencedAtMs?: number; clock?: TestClock; link?: TestNodeLink } = {}) {
  const clock = options.clock ?? new TestClock();
  const link = options.link ?? new TestNodeLink();
  const fencedAtMs = options.fencedAtMs ?? clock.ms + 1_000;
  const fencer = new Fencer({ handoffRetryMs: 0 }, { leases: { fencedAtMs: () => fencedAtMs, markDemoting: () => undefined, releaseDemoting: () => undefined }, nodeLink: link, logger: silentLogger, clock });
  const driver = new PlacementDriver({}, { service, fencer, logger: silentLogger, plan, clock });
  return { driver, clock, link };
}

/** Shard 0 on n1 (primary) and n2, both in sync, at epoch 1; the plan moves its primary to n2. */
async function promotion() {
  const service = await serviceWithNodes();
  await service.propose(assign(0, 0, 'n1', ['n2']));
  const plan: PlanFunction = (s: RoutingState) =>
    s.shards[0]!.primary === 'n1' ? [step({ type: 'promotePrimary', atMs: 0, reason: 'n1 is leaving', shardId: 0, expectedEpoch: s.shards[0]!.epoch, nodeId: 'n2' }, 'n1')] : [];
  return { service, plan };
}

describe('placement driver: one round', () => {
  it('while the cluster recovers from a restore, plans nothing and proposes nothing', async () => {
    const service = await serviceWithNodes();
    service.state = { ...service.state, restoring: { snapshotIndex: 3, snapshotHash: 'h', sinceMs: 0 } };
    let planned = 0;
    const { driver } = driverFor(service, () => (planned++, [step(assign(0, 0, 'n1'))]));
    const before = service.proposed.length;
    expect((await driver.runRound()).stoppedBy).toBe('recovering from a restore');
    expect(planned).toBe(0);
    expect(service.proposed.length).toBe(before);
  });

  it('proposes the steps in the order planned', async () => {
    const service = await serviceWithNodes();
    const { driver } = driverFor(service, () => [step(assign(2, 0, 'n1')), step(assign(0, 0, 'n2')), step(assign(1, 0, 'n3'))]);
    const report = await driver.runRound();
    expect(report.stoppedBy).toBeNull();
    expect(service.proposed.slice(-3).map((c) => c.type === 'assignShard' && [c.shardId, c.primary])).toEqual([
      [2, 'n1'],
      [0, 'n2'],
      [1, 'n3'],
    ]);
    expect(service.state.shards.map((s) => s.primary)).toEqual(['n2', 'n3', 'n1', null]);
  });

  it('stops the round at the first refused step and plans again next round', async () => {
    const service = await serviceWithNodes();
    let rounds = 0;
    const plan: PlanFunction = () => {
      rounds++;
      // The second step expects an epoch the shard does not have: refused (STALE_EPOCH).
      return [step(assign(0, 0, 'n1')), step(assign(1, 5, 'n2')), step(assign(2, 0, 'n3'))];
    };
    const { driver } = driverFor(service, plan);
    const before = service.proposed.length;
    const report = await driver.runRound();
    expect(report.stoppedBy).toMatch(/assignShard refused: STALE_EPOCH/);
    expect(report.proposed).toHaveLength(1);
    expect(service.proposed.length - before).toBe(2);
    expect(service.state.shards[2]!.primary).toBeNull();
    await driver.runRound();
    expect(rounds).toBe(2);
  });

  it('does nothing on a follower', async () => {
    const service = (await serviceWithNodes()).followerOf('c2');
    let planned = 0;
    const { driver } = driverFor(service, () => (planned++, [step(assign(0, 0, 'n1'))]));
    expect((await driver.runRound()).stoppedBy).toBe('not leading');
    expect(planned).toBe(0);
  });

  it('a step that demotes a primary goes through at once when the primary hands the shard off', async () => {
    const { service, plan } = await promotion();
    const { driver, link } = driverFor(service, plan);
    const report = await driver.runRound();
    expect(link.calls).toEqual([{ address: service.state.nodes['n1']!.address, shard: 0, epoch: 1 }]);
    expect(report.proposed.map((c) => c.type)).toEqual(['promotePrimary']);
    expect(service.state.shards[0]!.primary).toBe('n2');
    // The node did not say it is caught up: its copy resyncs.
    expect(service.state.shards[0]!.inSync).toEqual(['n2']);
  });

  it('a primary that hands off caught up stays an in-sync replica (a planned handoff copies nothing); one whose lease ran out resyncs', async () => {
    const planned = await promotion();
    const link = new TestNodeLink();
    link.caughtUp = true;
    const { driver } = driverFor(planned.service, planned.plan, { link });
    const report = await driver.runRound();
    expect(report.proposed).toEqual([expect.objectContaining({ type: 'promotePrimary', nodeId: 'n2', keepInSync: true })]);
    expect(planned.service.state.shards[0]).toMatchObject({ primary: 'n2', replicas: ['n1'], inSync: ['n1', 'n2'] });
    for (const caughtUp of [false, undefined]) {
      const again = await promotion();
      const l = new TestNodeLink();
      l.caughtUp = caughtUp;
      await driverFor(again.service, again.plan, { link: l }).driver.runRound();
      expect(again.service.state.shards[0]).toMatchObject({ primary: 'n2', inSync: ['n2'] });
    }
    // Fenced because the lease ran out (no handoff asked): nothing is known of its writes.
    const expired = await promotion();
    const clock = new TestClock();
    const silent = new TestNodeLink();
    silent.caughtUp = true;
    const byLease = driverFor(expired.service, expired.plan, { clock, link: silent, fencedAtMs: clock.ms - 1 });
    await byLease.driver.runRound();
    expect(silent.calls).toEqual([]);
    expect(expired.service.state.shards[0]).toMatchObject({ primary: 'n2', inSync: ['n2'] });
  });

  it('when the handoff fails, the step waits for the lease to run out, and other shards go on meanwhile', async () => {
    const { service, plan: promote } = await promotion();
    const plan: PlanFunction = (s, input) => [...promote(s, input), ...(s.shards[3]!.primary === null ? [step(assign(3, 0, 'n3'))] : [])];
    const clock = new TestClock();
    const link = new TestNodeLink();
    link.answers = false;
    const { driver } = driverFor(service, plan, { clock, link, fencedAtMs: clock.ms + 800 });
    const first = await driver.runRound();
    expect(first.waiting).toEqual(['n1/0/1']);
    expect(first.proposed.map((c) => c.type)).toEqual(['assignShard']);
    expect(service.state.shards[0]!.primary).toBe('n1');
    clock.ms += 799;
    expect((await driver.runRound()).waiting).toEqual(['n1/0/1']);
    expect(service.state.shards[0]!.primary).toBe('n1');
    clock.ms += 1;
    const calls = link.calls.length;
    const last = await driver.runRound();
    expect(last.proposed.map((c) => c.type)).toEqual(['promotePrimary']);
    // The lease ran out: there was nothing to ask n1 any more.
    expect(link.calls.length).toBe(calls);
    expect(service.state.shards[0]!.primary).toBe('n2');
  });

  it('plans and takes at most maxStepsPerRound steps in a round', async () => {
    const service = await serviceWithNodes();
    const fencer = new Fencer({}, { leases: { fencedAtMs: () => 0, markDemoting: () => undefined, releaseDemoting: () => undefined }, nodeLink: new TestNodeLink(), logger: silentLogger });
    const asked: (number | undefined)[] = [];
    const plan: PlanFunction = (_s, input) => (asked.push(input.maxSteps), [0, 1, 2, 3].map((i) => step(assign(i, 0, 'n1'))));
    const driver = new PlacementDriver({ maxStepsPerRound: 2 }, { service, fencer, logger: silentLogger, plan });
    expect((await driver.runRound()).proposed).toHaveLength(2);
    // The planner is asked for no more than the round carries out: a round's planning stays short on a large table.
    expect(asked).toEqual([2]);
  });
});

describe('placement driver: the loop', () => {
  let control: NodeControl | undefined;
  afterEach(async () => {
    await control?.close();
    control = undefined;
  });

  it('runs while the replica leads, soon after a change, and stops when leadership is lost', async () => {
    const service = await serviceWithNodes();
    let rounds = 0;
    const plan: PlanFunction = (s) => {
      rounds++;
      return s.shards[0]!.primary === null && s.nodes['n4'] !== undefined ? [step(assign(0, 0, 'n4'))] : [];
    };
    // A long interval: a round soon after the change can only come from the change itself.
    control = new NodeControl({ placement: true, driver: { intervalMs: 60_000, debounceMs: 5 } }, { service, nodeLink: new TestNodeLink(), logger: silentLogger, plan });
    await waitFor('the first round after becoming leader', () => rounds >= 1);
    await service.propose(registerCommand('n4'));
    await waitFor('the step planned after the change', () => service.state.shards[0]!.primary === 'n4');

    // The driver listens to applied changes only while it runs.
    expect(service.listenerCount).toBe(1);
    service.followerOf('c2');
    expect(service.listenerCount).toBe(0);
    const stopped = rounds;
    await service.propose(registerCommand('n5'));
    expect(rounds).toBe(stopped);
    expect(service.proposed.filter((c) => c.type === 'assignShard')).toHaveLength(1);
  });

  it('demotes through the fencing rule it is given (built once, with the node link)', async () => {
    const { service, plan } = await promotion();
    const asked: string[] = [];
    let fenced = false;
    let built = 0;
    const fencing: FencingFactory = (_opts, modules) => (built++, expect(modules.nodeLink).toBeInstanceOf(TestNodeLink), {
      async fence(_state, nodeId, shardId, epoch) {
        asked.push(`${nodeId}/${shardId}/${epoch}`);
        return fenced ? { fenced: true, how: 'told so', caughtUp: false } : { fenced: false, untilMs: Infinity, why: 'told to wait' };
      },
      release: () => undefined,
    });
    control = new NodeControl({ placement: true, driver: { intervalMs: 20, debounceMs: 5 } }, { service, nodeLink: new TestNodeLink(), logger: silentLogger, plan, fencing });
    await waitFor('the step asking the given rule twice', () => asked.length >= 2);
    expect(service.proposed.some((c) => c.type === 'promotePrimary')).toBe(false);
    fenced = true;
    await waitFor('the promotion once the given rule says fenced', () => service.state.shards[0]!.primary === 'n2');
    expect(asked[0]).toBe('n1/0/1');
    expect(built).toBe(1);
  });

  it('starts again when the replica becomes leader again', async () => {
    const service = (await serviceWithNodes()).followerOf('c2');
    let rounds = 0;
    control = new NodeControl({ placement: true, driver: { intervalMs: 60_000, debounceMs: 5 } }, { service, nodeLink: new TestNodeLink(), logger: silentLogger, plan: () => (rounds++, []) });
    await service.propose(registerCommand('n4'));
    expect(rounds).toBe(0);
    expect(service.listenerCount).toBe(0);
    service.becomeLeader();
    expect(service.listenerCount).toBe(1);
    await waitFor('a round after the election', () => rounds >= 1);
  });
});

describe('placement driver: its share of the leader', () => {
  /** Label changes every 10 simulated ms for 3 s, the driver planning in `planMs`; the simulated times each plan began and ended. */
  async function paced(planMs: number): Promise<{ starts: number[]; ends: number[] }> {
    const service = await serviceWithNodes();
    const time = new SimTime(1_000_000);
    const starts: number[] = [];
    const ends: number[] = [];
    const plan: PlanFunction = () => {
      starts.push(time.nowMs());
      // The plan's own time: the simulated clock moves while it runs, as the real one does on a large table.
      if (planMs > 0) time.advanceTo(time.nowMs() + planMs);
      ends.push(time.nowMs());
      return [];
    };
    const fencer = new Fencer({ handoffRetryMs: 0 }, { leases: { fencedAtMs: () => 0, markDemoting: () => undefined, releaseDemoting: () => undefined }, nodeLink: new TestNodeLink(), logger: silentLogger, clock: time });
    const driver = new PlacementDriver({ intervalMs: 200, debounceMs: 20 }, { service, fencer, logger: silentLogger, plan, clock: time, timers: time });
    driver.start();
    const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
    for (let i = 0; i < 300; i++) {
      await service.propose({ type: 'setNodeLabels', atMs: 0, reason: 'test', nodeId: 'n1', labels: { zone: `z${i}` } });
      await settle();
      time.advanceTo(time.nowMs() + 10);
      await settle();
    }
    await driver.stop();
    return { starts, ends };
  }

  it('rests nine times as long as a plan took before the next: a slow plan takes a tenth of the time, however often the table changes', async () => {
    const { starts, ends } = await paced(30);
    expect(starts.length).toBeGreaterThanOrEqual(8);
    expect(starts.length).toBeLessThanOrEqual(12);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - ends[i - 1]!).toBeGreaterThanOrEqual(270);
  });

  it('a quick plan keeps the pace of the changes (a round 20 ms after one)', async () => {
    const { starts } = await paced(0);
    expect(starts.length).toBeGreaterThanOrEqual(80);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(40);
  });
});
