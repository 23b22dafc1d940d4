import { describe, expect, test } from 'vitest';
import { apply, stateHash, type RoutingState } from '../../../src/coordinator/routing/index.js';
import { applyAll, applyOk, assign, cmd, expectRejected, fresh, healthy, meta, move, register, unhealthy, withNodes } from './helpers.js';

const inSync = (shardId: number, expectedEpoch: number, nodeId: string, value = true) =>
  cmd('setInSync', { shardId, expectedEpoch, nodeId, inSync: value });
const promote = (shardId: number, expectedEpoch: number, nodeId: string) => cmd('promotePrimary', { shardId, expectedEpoch, nodeId });

/** n1..n4 healthy; shard 0 on n1 (primary) and n2, epoch 1, both in sync. */
function placed(): RoutingState {
  return applyAll(withNodes(['n1', 'n2', 'n3', 'n4']), [assign(0, 0, 'n1', ['n2'])]);
}

describe('assignShard', () => {
  test('places a shard without copies; every copy starts in sync; the epoch moves on', () => {
    const { state, result } = applyOk(withNodes(), assign(1, 0, 'n2', ['n3', 'n1']));
    const shard = { id: 1, primary: 'n2', replicas: ['n1', 'n3'], inSync: ['n1', 'n2', 'n3'], epoch: 1, state: 'active' };
    expect(state.shards[1]).toEqual(shard);
    expect(result).toEqual({ ok: true, changed: true, subject: 'shard', shard });
    expect(state.events.items.at(-1)).toMatchObject({ kind: 'shard-assigned', shard: 1 });
  });

  test('rejections', () => {
    const state = placed();
    expectRejected(state, assign(9, 0, 'n1'), 'UNKNOWN_SHARD', /shards 0..3/);
    expectRejected(state, assign(0, 0, 'n3'), 'STALE_EPOCH', /epoch 1, the command expected 0/);
    expectRejected(state, assign(0, 1, 'n3'), 'SHARD_ASSIGNED', /use moveShard/);
    expectRejected(state, assign(1, 0, 'n9'), 'UNKNOWN_NODE');
    expectRejected(state, assign(1, 0, 'n1', ['n9']), 'UNKNOWN_NODE');
    expectRejected(state, assign(1, 0, 'n1', ['n1']), 'INVALID_COMMAND');
  });

  test('only on nodes that take new copies', () => {
    const state = applyAll(placed(), [unhealthy('n3'), cmd('setNodeStatus', { nodeId: 'n4', status: 'draining' })]);
    expectRejected(state, assign(1, 0, 'n3'), 'NODE_NOT_AVAILABLE', /unhealthy/);
    expectRejected(state, assign(1, 0, 'n1', ['n4']), 'NODE_NOT_AVAILABLE', /draining/);
    // A node not yet probed (unknown) is fine: nothing speaks against it.
    expect(applyOk(applyAll(state, [register('n5')]), assign(1, 0, 'n5')).state.shards[1]?.primary).toBe('n5');
  });

  test('capacity is the most copies a node may hold', () => {
    let state = applyAll(fresh(), [register('n1', { capacity: 2 }), register('n2', { capacity: 8 })]);
    state = applyAll(state, [assign(0, 0, 'n1'), assign(1, 0, 'n2', ['n1'])]);
    expectRejected(state, assign(2, 0, 'n1'), 'CAPACITY_EXCEEDED', /holds 2 shard copies and has capacity 2/);
    expectRejected(state, assign(2, 0, 'n2', ['n1']), 'CAPACITY_EXCEEDED');
    expect(applyOk(state, assign(2, 0, 'n2')).result.changed).toBe(true);
  });
});

describe('moveShard', () => {
  test('a new replica starts out of sync (recovering) and joins with setInSync', () => {
    let state = applyOk(placed(), move(0, 1, 'n1', ['n2', 'n3'])).state;
    expect(state.shards[0]).toEqual({ id: 0, primary: 'n1', replicas: ['n2', 'n3'], inSync: ['n1', 'n2'], epoch: 2, state: 'recovering' });
    state = applyOk(state, inSync(0, 2, 'n3')).state;
    expect(state.shards[0]).toMatchObject({ inSync: ['n1', 'n2', 'n3'], epoch: 3, state: 'active' });
  });

  test('dropping a copy, and handing the primary to an in-sync copy', () => {
    const state = applyOk(placed(), move(0, 1, 'n2', ['n3'])).state;
    expect(state.shards[0]).toMatchObject({ primary: 'n2', replicas: ['n3'], inSync: ['n2'], epoch: 2 });
    expect(state.events.items.at(-1)?.message).toBe(
      'shard 0 epoch 1 → 2: primary n1, replicas [n2], in sync [n1,n2] → primary n2, replicas [n3], in sync [n2]',
    );
  });

  test('an old primary kept as a replica must resync, as after a promotion', () => {
    const state = applyOk(placed(), move(0, 1, 'n2', ['n1', 'n3'])).state;
    expect(state.shards[0]).toMatchObject({ primary: 'n2', replicas: ['n1', 'n3'], inSync: ['n2'], state: 'recovering' });
  });

  test('primary null drops the primary without promoting anyone (forced removal)', () => {
    let state = applyOk(placed(), move(0, 1, null, ['n2'])).state;
    expect(state.shards[0]).toMatchObject({ primary: null, replicas: ['n2'], inSync: ['n2'], state: 'unavailable' });
    state = applyOk(state, move(0, 2, null, [])).state;
    expect(state.shards[0]).toMatchObject({ primary: null, replicas: [], inSync: [], state: 'unassigned', epoch: 3 });
  });

  test('the same configuration again is a no-op and keeps the epoch', () => {
    const state = placed();
    const out = apply(state, move(0, 1, 'n1', ['n2']), meta());
    expect(out.result).toMatchObject({ ok: true, changed: false, shard: { epoch: 1 } });
    expect(out.state).toBe(state);
  });

  test('rejections', () => {
    const state = applyOk(placed(), move(0, 1, 'n1', ['n2', 'n3'])).state; // n3 recovering, epoch 2
    expectRejected(state, move(0, 1, 'n1', ['n4']), 'STALE_EPOCH');
    expectRejected(state, move(0, 2, 'n3', ['n1']), 'NOT_IN_SYNC', /n3 is not an in-sync copy/);
    expectRejected(state, move(0, 2, 'n4', ['n1']), 'NOT_IN_SYNC');
    expectRejected(state, move(1, 0, 'n1', []), 'SHARD_UNASSIGNED', /use assignShard/);
    expectRejected(state, move(0, 2, 'n1', ['n2', 'n9']), 'UNKNOWN_NODE');
    expectRejected(state, move(0, 2, 'n1', ['n2', 'n2']), 'INVALID_COMMAND');
    expectRejected(state, move(7, 0, 'n1', []), 'UNKNOWN_SHARD');
    const full = applyAll(fresh(), [register('n1'), register('n2', { capacity: 1 }), register('n3'), assign(0, 0, 'n1'), assign(1, 0, 'n2')]);
    expectRejected(full, move(0, 1, 'n1', ['n2']), 'CAPACITY_EXCEEDED');
  });

  test('keeping a copy on a node that can no longer take new ones is allowed', () => {
    const state = applyAll(placed(), [cmd('setNodeStatus', { nodeId: 'n2', status: 'draining' })]);
    expect(applyOk(state, move(0, 1, 'n1', ['n2', 'n3'])).state.shards[0]?.replicas).toEqual(['n2', 'n3']);
  });
});

describe('setInSync', () => {
  test('a lagging replica leaves the in-sync set before the primary acks without it', () => {
    const state = applyOk(placed(), inSync(0, 1, 'n2', false)).state;
    expect(state.shards[0]).toMatchObject({ inSync: ['n1'], epoch: 2, state: 'recovering' });
    expect(state.events.items.at(-1)).toMatchObject({ kind: 'shard-out-of-sync', message: 'shard 0 epoch 1 → 2: n2 left the in-sync set' });
  });

  test('already so: a no-op', () => {
    const state = placed();
    const out = apply(state, inSync(0, 1, 'n2', true), meta());
    expect(out.result).toMatchObject({ ok: true, changed: false });
    expect(out.state).toBe(state);
  });

  test('rejections', () => {
    const state = applyOk(placed(), move(0, 1, 'n1', ['n2', 'n3'])).state; // epoch 2, n3 recovering
    expectRejected(state, inSync(0, 1, 'n3'), 'STALE_EPOCH');
    expectRejected(state, inSync(0, 2, 'n4'), 'NOT_A_COPY');
    expectRejected(state, inSync(0, 2, 'n1', false), 'INVALID_TRANSITION', /promote another copy first/);
    expectRejected(state, inSync(9, 2, 'n1'), 'UNKNOWN_SHARD');
    const down = applyAll(state, [unhealthy('n3')]);
    expectRejected(down, inSync(0, 2, 'n3'), 'NODE_NOT_AVAILABLE');
    const headless = applyAll(state, [move(0, 2, null, ['n2', 'n3'])]);
    expectRejected(headless, inSync(0, 3, 'n3'), 'NO_PRIMARY');
  });
});

describe('promotePrimary', () => {
  test('an in-sync replica becomes primary; the old primary stays as a copy that must resync', () => {
    const state = applyOk(placed(), promote(0, 1, 'n2')).state;
    expect(state.shards[0]).toEqual({ id: 0, primary: 'n2', replicas: ['n1'], inSync: ['n2'], epoch: 2, state: 'recovering' });
    expect(state.events.items.at(-1)?.message).toBe('shard 0 epoch 1 → 2: primary n1 → n2, n1 out of sync');
  });

  test('a planned handoff (keepInSync) leaves the old primary an in-sync replica', () => {
    const state = applyOk(placed(), cmd('promotePrimary', { shardId: 0, expectedEpoch: 1, nodeId: 'n2', keepInSync: true })).state;
    expect(state.shards[0]).toEqual({ id: 0, primary: 'n2', replicas: ['n1'], inSync: ['n1', 'n2'], epoch: 2, state: 'active' });
    expect(state.events.items.at(-1)?.message).toBe('shard 0 epoch 1 → 2: primary n1 → n2, n1 stays in sync (handed off caught up)');
    // keepInSync: false is the default behaviour.
    expect(applyOk(placed(), cmd('promotePrimary', { shardId: 0, expectedEpoch: 1, nodeId: 'n2', keepInSync: false })).state.shards[0]?.inSync).toEqual(['n2']);
  });

  test('failover: the primary is declared unhealthy, its in-sync replica takes over', () => {
    const state = applyAll(placed(), [unhealthy('n1'), promote(0, 1, 'n2')]);
    expect(state.shards[0]).toMatchObject({ primary: 'n2', inSync: ['n2'], epoch: 2 });
  });

  test('a shard left without a primary gets one back from its in-sync copies', () => {
    const state = applyAll(placed(), [move(0, 1, null, ['n2']), promote(0, 2, 'n2')]);
    expect(state.shards[0]).toMatchObject({ primary: 'n2', replicas: [], inSync: ['n2'], state: 'active', epoch: 3 });
  });

  test('a plan made before the epoch moved on is refused, so it cannot apply twice', () => {
    const once = applyOk(placed(), promote(0, 1, 'n2')).state;
    expectRejected(once, promote(0, 1, 'n2'), 'STALE_EPOCH');
    expectRejected(once, promote(0, 1, 'n1'), 'STALE_EPOCH');
  });

  test('rejections', () => {
    const state = applyOk(placed(), move(0, 1, 'n1', ['n2', 'n3'])).state; // epoch 2, n3 recovering
    expectRejected(state, promote(0, 2, 'n3'), 'NOT_IN_SYNC');
    expectRejected(state, promote(0, 2, 'n4'), 'NOT_IN_SYNC');
    expectRejected(state, promote(5, 0, 'n1'), 'UNKNOWN_SHARD');
    // A decision below the storm guard's line, so that both copies can be down.
    const down = applyAll(withNodes(['n1', 'n2'], { settings: { minHealthyFraction: 0 } }), [assign(0, 0, 'n1', ['n2']), unhealthy('n2')]);
    expectRejected(down, promote(0, 1, 'n2'), 'NODE_NOT_AVAILABLE', /unhealthy/);
  });

  test('promoting the primary itself is a no-op', () => {
    const state = placed();
    const out = apply(state, promote(0, 1, 'n1'), meta());
    expect(out.result).toMatchObject({ ok: true, changed: false });
    expect(stateHash(out.state)).toBe(stateHash(state));
  });
});

test('each shard has its own epoch', () => {
  const state = applyAll(withNodes(), [assign(0, 0, 'n1'), assign(1, 0, 'n2'), move(0, 1, 'n1', ['n3']), healthy('n3')]);
  expect(state.shards.map((s) => s.epoch)).toEqual([2, 1, 0, 0]);
});
