import { describe, expect, test } from 'vitest';
import { apply, nodeById, stateHash } from '../../../src/coordinator/routing/index.js';
import { T0, applyAll, applyOk, assign, cmd, expectRejected, fresh, healthy, meta, register, unhealthy, withNodes } from './helpers.js';

describe('registerNode', () => {
  test('a new node is unknown until probed, stamped with the leader time', () => {
    const { state, result } = applyOk(fresh(), register('n1', { labels: { zone: 'a' }, identity: 'id-1', atMs: T0 + 5 }));
    expect(result).toMatchObject({ changed: true, subject: 'node' });
    expect(nodeById(state, 'n1')).toEqual({
      id: 'n1',
      address: '127.0.0.1:8081',
      status: 'unknown',
      capacity: 8,
      version: '0.1.0',
      labels: { zone: 'a' },
      identity: 'id-1',
      registeredAtMs: T0 + 5,
      statusChangedAtMs: T0 + 5,
      statusReason: 'test registerNode',
    });
    expect(state.events.items.map((e) => e.kind)).toEqual(['node-registered']);
  });

  test('registering again refreshes address, capacity and version, keeps status, labels and registration time', () => {
    let state = applyAll(fresh(), [register('n1', { labels: { zone: 'a' } }), healthy('n1')]);
    state = applyOk(state, register('n1', { address: '127.0.0.9:9000', capacity: 4, version: '0.2.0', atMs: T0 + 99 })).state;
    expect(nodeById(state, 'n1')).toMatchObject({
      address: '127.0.0.9:9000',
      capacity: 4,
      version: '0.2.0',
      status: 'healthy',
      labels: { zone: 'a' },
      registeredAtMs: T0,
    });
    expect(state.events.items.at(-1)?.kind).toBe('node-updated');
  });

  test('the same registration twice is a no-op: ok, unchanged, no event', () => {
    const state = applyAll(fresh(), [register('n1')]);
    const out = apply(state, register('n1', { atMs: T0 + 1000 }), meta());
    expect(out.result).toMatchObject({ ok: true, changed: false });
    expect(out.state).toBe(state);
  });

  test('a second process with another identity is refused; the known one may re-register', () => {
    const state = applyAll(fresh(), [register('n1', { identity: 'disk-a' })]);
    expectRejected(state, register('n1', { identity: 'disk-b', address: '127.0.0.2:1' }), 'IDENTITY_CONFLICT', /another process/);
    expect(applyOk(state, register('n1', { identity: 'disk-a', capacity: 3 })).state.nodes.n1?.capacity).toBe(3);
    // Without an identity (a registration by hand) there is nothing to compare.
    expect(applyOk(state, register('n1', { capacity: 2 })).state.nodes.n1?.identity).toBe('disk-a');
  });

  test('a node that left rejoins as a new registration, even as a new process', () => {
    let state = applyAll(fresh(), [register('n1', { identity: 'disk-a' }), healthy('n1'), cmd('setNodeStatus', { nodeId: 'n1', status: 'left' })]);
    state = applyOk(state, register('n1', { identity: 'disk-b', atMs: T0 + 7 })).state;
    expect(nodeById(state, 'n1')).toMatchObject({ status: 'unknown', identity: 'disk-b', registeredAtMs: T0 + 7 });
  });

  test('ids that are Object.prototype names are ordinary nodes', () => {
    const state = fresh();
    expectRejected(state, cmd('setNodeLabels', { nodeId: 'constructor', labels: {} }), 'UNKNOWN_NODE');
    const next = applyOk(state, register('constructor')).state;
    expect(Object.keys(next.nodes)).toEqual(['constructor']);
    expect(nodeById(next, 'toString')).toBeUndefined();
  });
});

describe('setNodeLabels', () => {
  test('replaces the labels as a whole', () => {
    let state = applyAll(fresh(), [register('n1', { labels: { zone: 'a', rack: '1' } })]);
    state = applyOk(state, cmd('setNodeLabels', { nodeId: 'n1', labels: { zone: 'b' } })).state;
    expect(state.nodes.n1?.labels).toEqual({ zone: 'b' });
    expect(state.events.items.at(-1)).toMatchObject({ kind: 'node-labels', node: 'n1', message: 'n1 labels rack=1,zone=a → zone=b' });
  });

  test('the same labels in another key order change nothing', () => {
    const state = applyAll(fresh(), [register('n1', { labels: { zone: 'a', rack: '1' } })]);
    const out = apply(state, cmd('setNodeLabels', { nodeId: 'n1', labels: { rack: '1', zone: 'a' } }), meta());
    expect(out.result).toMatchObject({ ok: true, changed: false });
    expect(out.state).toBe(state);
  });

  test('unknown node', () => {
    expectRejected(fresh(), cmd('setNodeLabels', { nodeId: 'n9', labels: {} }), 'UNKNOWN_NODE');
  });
});

describe('setNodeStatus', () => {
  test('records the status, when and why', () => {
    const state = applyAll(fresh(), [register('n1'), cmd('setNodeStatus', { nodeId: 'n1', status: 'healthy', atMs: T0 + 3, reason: 'first probe ok' })]);
    expect(nodeById(state, 'n1')).toMatchObject({ status: 'healthy', statusChangedAtMs: T0 + 3, statusReason: 'first probe ok' });
    expect(state.events.items.at(-1)).toMatchObject({ kind: 'node-status', node: 'n1', reason: 'first probe ok', timeMs: T0 + 3, message: 'n1 unknown → healthy' });
  });

  test('a failure decision with a majority of voters applies and says who confirmed', () => {
    const state = applyOk(withNodes(), unhealthy('n1', ['c1', 'c3'], 3)).state;
    expect(state.nodes.n1?.status).toBe('unhealthy');
    expect(state.events.items.at(-1)?.message).toBe('n1 healthy → unhealthy (confirmed by c1, c3 of 3 voters)');
  });

  test('a failure decision without a majority is refused', () => {
    const state = withNodes();
    expectRejected(state, unhealthy('n1', ['c1'], 3), 'NO_MAJORITY', /needs 2 of 3/);
    expectRejected(state, unhealthy('n1', ['c1', 'c2'], 5), 'NO_MAJORITY', /needs 3 of 5/);
    expectRejected(state, unhealthy('n1', ['c1', 'c2'], 4), 'NO_MAJORITY', /needs 3 of 4/);
    expect(applyOk(state, unhealthy('n1', ['c1', 'c2', 'c3'], 5)).result.changed).toBe(true);
    expect(applyOk(state, unhealthy('n1', ['c1'], 1)).result.changed).toBe(true);
  });

  test('storm guard: no failure decision that leaves fewer than minHealthyFraction of the nodes healthy', () => {
    const state = applyOk(withNodes(), unhealthy('n1')).state; // 2 of 3 healthy
    expectRejected(state, unhealthy('n2'), 'STORM_GUARD', /leave 1 of 3 nodes healthy, below minHealthyFraction 0.5/);
    const lenient = withNodes(['n1', 'n2', 'n3'], { settings: { minHealthyFraction: 0 } });
    expect(applyAll(lenient, [unhealthy('n1'), unhealthy('n2'), unhealthy('n3')]).nodes.n3?.status).toBe('unhealthy');
  });

  test('expectedStatus makes the change conditional', () => {
    const state = withNodes();
    expectRejected(state, cmd('setNodeStatus', { nodeId: 'n1', status: 'maintenance', expectedStatus: 'unhealthy' }), 'STALE_STATUS', /n1 is healthy/);
    expect(applyOk(state, cmd('setNodeStatus', { nodeId: 'n1', status: 'maintenance', expectedStatus: 'healthy' })).state.nodes.n1?.status).toBe('maintenance');
  });

  test('setting the status a node already has is a no-op', () => {
    const state = withNodes();
    const out = apply(state, healthy('n1'), meta());
    expect(out.result).toMatchObject({ ok: true, changed: false });
    expect(out.state).toBe(state);
  });

  test('left needs the node empty, and a node that left only comes back by registering', () => {
    let state = applyAll(withNodes(), [assign(0, 0, 'n1')]);
    expectRejected(state, cmd('setNodeStatus', { nodeId: 'n1', status: 'left' }), 'NODE_HAS_SHARDS', /shards 0/);
    state = applyOk(state, cmd('setNodeStatus', { nodeId: 'n2', status: 'left' })).state;
    expectRejected(state, healthy('n2'), 'INVALID_TRANSITION', /registering again/);
  });

  test('unknown node', () => {
    expectRejected(fresh(), healthy('n1'), 'UNKNOWN_NODE');
  });
});

describe('removeNode', () => {
  test('deletes an empty node', () => {
    const state = withNodes();
    const { state: next, result } = applyOk(state, cmd('removeNode', { nodeId: 'n2' }));
    expect(result).toMatchObject({ subject: 'nodeRemoved', node: { id: 'n2' } });
    expect(Object.keys(next.nodes).sort()).toEqual(['n1', 'n3']);
    expect(next.events.items.at(-1)).toMatchObject({ kind: 'node-removed', node: 'n2' });
    expect(stateHash(next)).not.toBe(stateHash(state));
  });

  test('refused while the node holds a copy, and for an unknown node', () => {
    const state = applyAll(withNodes(), [assign(2, 0, 'n1', ['n3'])]);
    expectRejected(state, cmd('removeNode', { nodeId: 'n3' }), 'NODE_HAS_SHARDS', /shards 2/);
    expectRejected(state, cmd('removeNode', { nodeId: 'n7' }), 'UNKNOWN_NODE');
  });
});
