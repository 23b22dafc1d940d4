// The rolling upgrade's record in the routing table: start, steps in order, one process at a time, the `restarting` status and its window.
import { describe, expect, it } from 'vitest';
import { apply, type RoutingState } from '../../../src/coordinator/routing/index.js';
import { routingStateSchema } from '../../../src/coordinator/routing/state-schema.js';
import { planPlacement } from '../../../src/coordinator/placement/index.js';
import { T0, applyAll, applyOk, assign, cmd, expectRejected, fresh, healthy, meta, register } from './helpers.js';

const members = [
  { id: 'c1', host: '127.0.0.1', apiPort: 7001, peerPort: 7101 },
  { id: 'c2', host: '127.0.0.1', apiPort: 7002, peerPort: 7102 },
];

function cluster(): RoutingState {
  const s = fresh({ shards: 2, members, settings: { replicationFactor: 2 } });
  return applyAll(s, [register('n1'), register('n2'), register('n3'), healthy('n1'), healthy('n2'), healthy('n3'), assign(0, 0, 'n1', ['n2']), assign(1, 0, 'n2', ['n3'])]);
}

const start = (extra: Partial<{ nodes: string[]; coordinators: string[] }> = {}) =>
  cmd('startUpgrade', { to: '0.1.1', restartTimeoutMs: 60_000, nodes: ['n1', 'n2', 'n3'], coordinators: ['c1', 'c2'], ...extra });
const step = (id: string, phase: 'restart' | 'back' | 'done' | 'fail', atMs = T0) => cmd('upgradeStep', { to: '0.1.1', id, phase, atMs });

describe('rolling upgrade in the table', () => {
  it('runs node by node, then the coordinators, and ends done; each step is idempotent', () => {
    let s = applyOk(cluster(), start()).state;
    expect(s.upgrade).toMatchObject({ to: '0.1.1', state: 'running', done: [], current: null, failed: null });
    s = applyOk(s, step('n1', 'restart')).state;
    expect(s.nodes['n1']).toMatchObject({ status: 'restarting', restart: { sinceMs: T0, untilMs: T0 + 60_000, version: '0.1.1' } });
    expect(s.upgrade?.current).toBe('n1');
    // A retried step (its answer lost in a leader change) changes nothing.
    expect(apply(s, step('n1', 'restart'), meta()).result).toMatchObject({ ok: true, changed: false });
    // One at a time.
    expectRejected(s, step('n2', 'restart'), 'WRONG_STATUS', /n1 is being restarted/);
    // Coordinators come last.
    s = applyOk(s, step('n1', 'back')).state;
    expect(s.nodes['n1']).toMatchObject({ status: 'healthy' });
    expect(s.nodes['n1']?.restart).toBeUndefined();
    s = applyOk(s, step('n1', 'done')).state;
    expect(apply(s, step('n1', 'done'), meta()).result).toMatchObject({ ok: true, changed: false });
    expectRejected(s, step('c1', 'restart'), 'WRONG_STATUS', /coordinators come last/);
    for (const id of ['n2', 'n3']) s = applyAll(s, [step(id, 'restart'), step(id, 'back'), step(id, 'done')]);
    s = applyAll(s, [step('c2', 'restart'), step('c2', 'done'), step('c1', 'restart')]);
    expect(s.upgrade).toMatchObject({ state: 'running', current: 'c1', done: ['n1', 'n2', 'n3', 'c2'] });
    s = applyOk(s, step('c1', 'done', T0 + 5)).state;
    expect(s.upgrade).toMatchObject({ state: 'done', current: null, endedAtMs: T0 + 5 });
    expect(routingStateSchema.safeParse(s).success).toBe(true);
    // Done: a new one may start.
    expect(applyOk(s, cmd('startUpgrade', { to: '0.1.2', restartTimeoutMs: 60_000, nodes: ['n1'], coordinators: [] })).state.upgrade?.to).toBe('0.1.2');
  });

  it('refuses a second upgrade while one runs (409 kind), unknown ids (naming the field), steps of another version, and restarting by hand', () => {
    const s = applyOk(cluster(), start()).state;
    expectRejected(s, start(), 'UPGRADE_RUNNING', /an upgrade to 0\.1\.1 is running/);
    expect(expectRejected(cluster(), start({ nodes: ['n1', 'n9'] }), 'UNKNOWN_NODE').field).toBe('nodes.1');
    expect(expectRejected(cluster(), start({ coordinators: ['c7'] }), 'UNKNOWN_MEMBER').field).toBe('coordinators.0');
    expectRejected(s, cmd('upgradeStep', { to: '0.2.0', id: 'n1', phase: 'restart' }), 'STALE_VERSION');
    expectRejected(s, step('n9', 'restart'), 'UNKNOWN_NODE');
    expectRejected(cluster(), step('n1', 'restart'), 'NO_UPGRADE');
    expectRejected(s, cmd('setNodeStatus', { nodeId: 'n1', status: 'restarting' }), 'INVALID_TRANSITION');
    expectRejected(s, cmd('startUpgrade', { to: '', restartTimeoutMs: 60_000, nodes: ['n1'], coordinators: [] }), 'INVALID_COMMAND');
  });

  it('a node that does not come back stops the upgrade and is an ordinary node again', () => {
    let s = applyAll(cluster(), [start(), step('n1', 'restart')]);
    s = applyOk(s, cmd('upgradeStep', { to: '0.1.1', id: 'n1', phase: 'fail', reason: 'not back within 60 s' })).state;
    expect(s.upgrade).toMatchObject({ state: 'failed', failed: { id: 'n1', reason: 'not back within 60 s' }, current: null });
    expect(s.nodes['n1']).toMatchObject({ status: 'unknown' });
    expectRejected(s, step('n2', 'restart'), 'NO_UPGRADE');
  });

  it('restarting: its primary hands over, its replica copy stays and counts (nothing rebuilt elsewhere), and the window ends by itself', () => {
    let s = applyAll(cluster(), [start(), step('n2', 'restart')]);
    const steps = planPlacement(s, { nowMs: T0 + 1_000 }).map((p) => p.command);
    // Shard 1's primary n2 goes to its in-sync replica n3; shard 0 keeps n2 as its replica (no new copy, no trim).
    expect(steps).toEqual([expect.objectContaining({ type: 'promotePrimary', shardId: 1, nodeId: 'n3' })]);
    s = applyAll(s, steps);
    expect(planPlacement(s, { nowMs: T0 + 2_000 })).toEqual([]);
    // Back and caught up while still restarting: it rejoins the in-sync set, but is never promoted.
    const out = applyOk(s, cmd('setInSync', { shardId: 1, expectedEpoch: s.shards[1]!.epoch, nodeId: 'n2', inSync: false })).state;
    const back = applyOk(out, cmd('setInSync', { shardId: 1, expectedEpoch: out.shards[1]!.epoch, nodeId: 'n2', inSync: true })).state;
    expect(back.shards[1]!.inSync).toEqual(['n2', 'n3']);
    expectRejected(back, cmd('promotePrimary', { shardId: 1, expectedEpoch: back.shards[1]!.epoch, nodeId: 'n2' }), 'NODE_NOT_AVAILABLE');
    // A re-registration (the restart itself) keeps the status and its window.
    s = applyOk(s, register('n2', { version: '0.1.1' })).state;
    expect(s.nodes['n2']).toMatchObject({ status: 'restarting', version: '0.1.1', restart: { untilMs: T0 + 60_000 } });
    // Past the window: an ordinary node again (probed, declared failed if it is down).
    const expiry = planPlacement(s, { nowMs: T0 + 60_000 }).map((p) => p.command);
    expect(expiry).toEqual([expect.objectContaining({ type: 'setNodeStatus', nodeId: 'n2', status: 'unknown', expectedStatus: 'restarting' })]);
  });
});
