// Apply of the planned operations: maintenance (many nodes, all or nothing), its TTL, and evacuation with its progress.
import { describe, expect, test } from 'vitest';
import { deserializeState, evacuationView, invariantViolations, nodeById, serializeState, type RoutingState } from '../../../src/coordinator/routing/index.js';
import { T0, applyAll, applyOk, assign, cmd, expectRejected, unhealthy, withNodes } from './helpers.js';

/** 4 nodes, 4 shards × 2 copies: n1 primary of 0 and 1, replicas spread. */
function placed(): RoutingState {
  return applyAll(withNodes(['n1', 'n2', 'n3', 'n4']), [assign(0, 0, 'n1', ['n2']), assign(1, 0, 'n1', ['n3']), assign(2, 0, 'n2', ['n3']), assign(3, 0, 'n4', ['n2'])]);
}

const maintenance = (nodeIds: string[], enabled: boolean, extra: { ttlMs?: number; onlyExpired?: boolean; atMs?: number } = {}) =>
  cmd('setMaintenance', { nodeIds, enabled, ...extra });

describe('setMaintenance', () => {
  test('puts every named node in maintenance in one change, with reason, since and until (atMs + ttlMs)', () => {
    const { state, result } = applyOk(placed(), maintenance(['n1', 'n3'], true, { ttlMs: 60_000, atMs: T0 + 10 }));
    expect(result).toMatchObject({ changed: true, subject: 'nodes' });
    for (const id of ['n1', 'n3']) {
      expect(nodeById(state, id)).toMatchObject({ status: 'maintenance', maintenance: { reason: 'test setMaintenance', sinceMs: T0 + 10, untilMs: T0 + 60_010 } });
    }
    expect(nodeById(state, 'n2')?.status).toBe('healthy');
    expect(state.events.items.slice(-2).map((e) => e.message)).toEqual([expect.stringMatching(/^n1 healthy → maintenance until /), expect.stringMatching(/^n3 /)]);
    expect(invariantViolations(state)).toEqual([]);
    // The window survives a snapshot round trip.
    expect(nodeById(deserializeState(serializeState(state)), 'n1')?.maintenance).toEqual({ reason: 'test setMaintenance', sinceMs: T0 + 10, untilMs: T0 + 60_010 });
  });

  test('an unknown id refuses the whole command, naming it; nothing changes', () => {
    const r = expectRejected(placed(), maintenance(['n1', 'n9'], true), 'UNKNOWN_NODE', /no node n9/);
    expect(r.field).toBe('nodeIds.1');
  });

  test('bad fields are refused before anything is looked at', () => {
    expectRejected(placed(), maintenance([], true), 'INVALID_COMMAND', /nodeIds/);
    expectRejected(placed(), maintenance(['n1', 'n1'], true), 'INVALID_COMMAND', /listed twice/);
    expectRejected(placed(), maintenance(['n1'], false, { ttlMs: 5 }), 'INVALID_COMMAND', /ttlMs/);
    expectRejected(placed(), maintenance(['n1'], true, { ttlMs: 0 }), 'INVALID_COMMAND', /ttlMs/);
  });

  test('refused (nothing changes) when the nodes left outside could not hold replicationFactor copies of every shard, saying how many are needed', () => {
    // 2 of 4 left: 2 nodes × capacity 8 hold 16 ≥ 4 × 2; 3 of 4 left one node, fewer than 2.
    applyOk(placed(), maintenance(['n1', 'n2'], true));
    expectRejected(placed(), maintenance(['n1', 'n2', 'n3'], true), 'TOO_FEW_NODES', /leave 1 node taking copies \(n4\).*need at least 2 nodes with room for 8 copies/);
    // Room counts too: two nodes of capacity 3 cannot hold 8 copies.
    const small = applyAll(placed(), [cmd('registerNode', { nodeId: 'n3', address: '127.0.0.1:8083', capacity: 3, version: '' }), cmd('registerNode', { nodeId: 'n4', address: '127.0.0.1:8084', capacity: 3, version: '' })]);
    expectRejected(small, maintenance(['n1', 'n2'], true), 'TOO_FEW_NODES', /room for 6 copies/);
  });

  test('refused for a node that is unhealthy, draining, evacuating or left', () => {
    const failed = applyAll(placed(), [unhealthy('n4')]);
    expectRejected(failed, maintenance(['n1', 'n4'], true), 'WRONG_STATUS', /n4 is unhealthy/);
    const evacuating = applyAll(placed(), [cmd('startEvacuation', { nodeId: 'n4' })]);
    expectRejected(evacuating, maintenance(['n4'], true), 'WRONG_STATUS', /cancel it first/);
  });

  test('again on a node in maintenance renews its window (reason, until), keeping since', () => {
    let state = applyOk(placed(), maintenance(['n1'], true, { ttlMs: 1_000 })).state;
    state = applyOk(state, { ...maintenance(['n1'], true, { atMs: T0 + 500 }), reason: 'longer' }).state;
    expect(nodeById(state, 'n1')?.maintenance).toEqual({ reason: 'longer', sinceMs: T0, untilMs: null });
    // The same request again (a retry) changes nothing.
    const again = applyOk(state, { ...maintenance(['n1'], true, { atMs: T0 + 900 }), reason: 'longer' });
    expect(again.result.changed).toBe(false);
    expect(again.state).toBe(state);
  });

  test('enabled false makes the nodes unknown (probed again like any other), drops the window; nodes not in maintenance are left as they are', () => {
    let state = applyOk(placed(), maintenance(['n1', 'n2'], true)).state;
    const out = applyOk(state, maintenance(['n1', 'n2', 'n3'], false, { atMs: T0 + 5 }));
    state = out.state;
    expect(nodeById(state, 'n1')).toMatchObject({ status: 'unknown', statusChangedAtMs: T0 + 5 });
    expect(nodeById(state, 'n1')?.maintenance).toBeUndefined();
    expect(nodeById(state, 'n3')?.status).toBe('healthy');
    expect(invariantViolations(state)).toEqual([]);
    // Again: nothing to do.
    expect(applyOk(state, maintenance(['n1'], false)).result.changed).toBe(false);
    // An evacuating node is not ended this way.
    const evacuating = applyAll(placed(), [cmd('startEvacuation', { nodeId: 'n4' })]);
    expectRejected(evacuating, maintenance(['n4'], false), 'WRONG_STATUS', /cancel the evacuation/);
  });

  test('onlyExpired (the leader ending a TTL) ends only windows whose until has passed at the stamped time', () => {
    let state = applyOk(placed(), maintenance(['n1'], true, { ttlMs: 1_000 })).state;
    state = applyOk(state, maintenance(['n2'], true)).state;
    const early = applyOk(state, maintenance(['n1', 'n2'], false, { onlyExpired: true, atMs: T0 + 999 }));
    expect(early.result.changed).toBe(false);
    expect(early.state).toBe(state);
    state = applyOk(state, maintenance(['n1', 'n2'], false, { onlyExpired: true, atMs: T0 + 1_000 })).state;
    expect(nodeById(state, 'n1')?.status).toBe('unknown');
    expect(nodeById(state, 'n2')?.status).toBe('maintenance');
    expect(state.events.items.at(-1)?.message).toMatch(/TTL ran out/);
  });

  test('a restart (re-registration) keeps the maintenance window', () => {
    let state = applyOk(placed(), maintenance(['n1'], true, { ttlMs: 5_000 })).state;
    state = applyOk(state, cmd('registerNode', { nodeId: 'n1', address: '127.0.0.1:9999', capacity: 8, version: '0.2.0' })).state;
    expect(nodeById(state, 'n1')).toMatchObject({ status: 'maintenance', maintenance: { untilMs: T0 + 5_000 } });
  });

  test('a node in maintenance is excluded from the storm guard: a failure elsewhere is still decided', () => {
    // 4 nodes, minHealthyFraction 0.5: with n1, n2 in maintenance, n3 failing leaves n4 of {n3, n4} healthy = 50 %.
    const state = applyOk(placed(), maintenance(['n1', 'n2'], true)).state;
    expect(nodeById(applyOk(state, unhealthy('n3')).state, 'n3')?.status).toBe('unhealthy');
  });
});

describe('evacuation', () => {
  test('starts at once, counting the copies to move; the view derives moved and remaining from the shards', () => {
    const state = applyOk(placed(), cmd('startEvacuation', { nodeId: 'n2', atMs: T0 + 1 })).state;
    expect(nodeById(state, 'n2')).toMatchObject({ status: 'evacuating', evacuation: { total: 3, state: 'running', startedAtMs: T0 + 1, stalledReason: null } });
    expect(evacuationView(state, 'n2', T0 + 1_001)).toMatchObject({ total: 3, moved: 0, remaining: 3, etaMs: null, state: 'running' });
    // One copy gone after 1 s: 2 left, 2 s to go at that pace.
    const after = applyOk(state, cmd('moveShard', { shardId: 0, expectedEpoch: 1, primary: 'n1', replicas: ['n3'] })).state;
    expect(evacuationView(after, 'n2', T0 + 1_001)).toMatchObject({ moved: 1, remaining: 2, etaMs: 2_000 });
    expect(invariantViolations(after)).toEqual([]);
  });

  test('a copy joining the in-sync set of a shard the node holds adds the bytes its primary sent to the progress', () => {
    let state = applyOk(placed(), cmd('startEvacuation', { nodeId: 'n2' })).state;
    state = applyOk(state, cmd('moveShard', { shardId: 0, expectedEpoch: 1, primary: 'n1', replicas: ['n2', 'n4'] })).state;
    const joined = applyOk(state, cmd('setInSync', { shardId: 0, expectedEpoch: 2, nodeId: 'n4', inSync: true, copiedBytes: 4_096 }));
    expect(evacuationView(joined.state, 'n2', T0)?.bytesCopied).toBe(4_096);
    expect(joined.state.events.items.at(-1)?.message).toMatch(/n4 joined the in-sync set \(4096 bytes copied\)/);
    // Another shard it holds adds up; a shard it does not hold, and a node not evacuating, get nothing.
    const other = applyOk(joined.state, cmd('moveShard', { shardId: 3, expectedEpoch: 1, primary: 'n4', replicas: ['n2', 'n3'] })).state;
    let elsewhere = applyOk(other, cmd('setInSync', { shardId: 3, expectedEpoch: 2, nodeId: 'n3', inSync: true, copiedBytes: 100 })).state;
    elsewhere = applyOk(elsewhere, cmd('moveShard', { shardId: 1, expectedEpoch: 1, primary: 'n1', replicas: ['n3', 'n4'] })).state;
    elsewhere = applyOk(elsewhere, cmd('setInSync', { shardId: 1, expectedEpoch: 2, nodeId: 'n4', inSync: true, copiedBytes: 50 })).state;
    expect(evacuationView(elsewhere, 'n2', T0)?.bytesCopied).toBe(4_196);
    expect(nodeById(elsewhere, 'n4')?.evacuation).toBeUndefined();
    expect(invariantViolations(elsewhere)).toEqual([]);
  });

  test('finish is refused while the node holds a copy, and then puts it in maintenance with the evacuation done', () => {
    let state = applyOk(placed(), cmd('startEvacuation', { nodeId: 'n4' })).state;
    expectRejected(state, cmd('finishEvacuation', { nodeId: 'n4' }), 'NODE_HAS_SHARDS', /shards 3/);
    state = applyOk(state, cmd('moveShard', { shardId: 3, expectedEpoch: 1, primary: 'n2', replicas: ['n1'] })).state;
    state = applyOk(state, cmd('finishEvacuation', { nodeId: 'n4', atMs: T0 + 50 })).state;
    expect(nodeById(state, 'n4')).toMatchObject({ status: 'maintenance', maintenance: { reason: 'evacuated: test startEvacuation', untilMs: null }, evacuation: { state: 'done', endedAtMs: T0 + 50 } });
    expect(evacuationView(state, 'n4', T0 + 99)).toMatchObject({ total: 1, moved: 1, remaining: 0, etaMs: 0, state: 'done' });
    expect(invariantViolations(state)).toEqual([]);
  });

  test('cancel stops it (the node is an ordinary member again); a second cancel is a no-op; cancel of a node never evacuated is refused', () => {
    let state = applyOk(placed(), cmd('startEvacuation', { nodeId: 'n4' })).state;
    state = applyOk(state, cmd('cancelEvacuation', { nodeId: 'n4', atMs: T0 + 7 })).state;
    expect(nodeById(state, 'n4')).toMatchObject({ status: 'unknown', evacuation: { state: 'cancelled', endedAtMs: T0 + 7 } });
    expect(applyOk(state, cmd('cancelEvacuation', { nodeId: 'n4' })).result.changed).toBe(false);
    expectRejected(state, cmd('cancelEvacuation', { nodeId: 'n1' }), 'WRONG_STATUS', /n1 is healthy, not evacuating/);
    expectRejected(state, cmd('startEvacuation', { nodeId: 'n9' }), 'UNKNOWN_NODE');
  });

  test('a stall report applies only to the evacuation it names, and only when it changes', () => {
    let state = applyOk(placed(), cmd('startEvacuation', { nodeId: 'n4', atMs: T0 + 3 })).state;
    expectRejected(state, cmd('setEvacuationStall', { nodeId: 'n4', startedAtMs: T0, stalledReason: 'x' }), 'STALE_STATUS');
    state = applyOk(state, cmd('setEvacuationStall', { nodeId: 'n4', startedAtMs: T0 + 3, stalledReason: 'no room' })).state;
    expect(evacuationView(state, 'n4', T0 + 10)?.stalledReason).toBe('no room');
    expect(state.events.items.at(-1)).toMatchObject({ kind: 'node-evacuation', message: "n4's evacuation is stalled: no room" });
    expect(applyOk(state, cmd('setEvacuationStall', { nodeId: 'n4', startedAtMs: T0 + 3, stalledReason: 'no room' })).result.changed).toBe(false);
  });

  test('no evacuation from a failed node, and a running one is not declared failed by status command without ending it', () => {
    const failed = applyAll(placed(), [unhealthy('n4')]);
    expectRejected(failed, cmd('startEvacuation', { nodeId: 'n4' }), 'WRONG_STATUS', /n4 is unhealthy/);
    // A status set another way (here: drained) ends the evacuation record as cancelled, keeping the invariants.
    let state = applyOk(placed(), cmd('startEvacuation', { nodeId: 'n4' })).state;
    state = applyOk(state, cmd('setNodeStatus', { nodeId: 'n4', status: 'draining' })).state;
    expect(nodeById(state, 'n4')?.evacuation?.state).toBe('cancelled');
    expect(invariantViolations(state)).toEqual([]);
  });
});
