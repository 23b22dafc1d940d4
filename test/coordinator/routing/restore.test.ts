import { describe, expect, test } from 'vitest';
import { deserializeState, serializeState, stateHash, type RoutingState } from '../../../src/coordinator/routing/index.js';
import { applyAll, applyOk, assign, cmd, expectRejected, withNodes } from './helpers.js';

const WINDOW = { snapshotIndex: 42, snapshotHash: 'h-42', sinceMs: 5 };

/** Shard 0 on n1+n2 at epoch 1, as a restored (recovering) table. */
function restored(): RoutingState {
  const s = applyAll(withNodes(), [assign(0, 0, 'n1', ['n2'])]);
  return { ...s, restoring: WINDOW };
}

describe('finishRestore', () => {
  test('takes the newer records from the nodes and ends the window in one step, with events', () => {
    const { state } = applyOk(
      restored(),
      cmd('finishRestore', { snapshotHash: 'h-42', shards: [{ shardId: 0, expectedEpoch: 1, epoch: 7, primary: 'n3', replicas: ['n2'], inSync: ['n2', 'n3'] }] }),
    );
    expect(state.restoring).toBeUndefined();
    expect('restoring' in state).toBe(false);
    expect(state.shards[0]).toEqual({ id: 0, primary: 'n3', replicas: ['n2'], inSync: ['n2', 'n3'], epoch: 7, state: 'active' });
    const kinds = state.events.items.slice(-2).map((e) => e.kind);
    expect(kinds).toEqual(['cluster-restored', 'shard-moved']);
    // Still a table the replicas can snapshot and read back.
    expect(stateHash(deserializeState(serializeState(state)))).toBe(stateHash(state));
  });

  test('ends a window with nothing to take', () => {
    const { state } = applyOk(restored(), cmd('finishRestore', { snapshotHash: 'h-42', shards: [] }));
    expect(state.restoring).toBeUndefined();
    expect(state.shards[0]!.epoch).toBe(1);
  });

  test('refused, changing nothing: no window, another window, a stale epoch, an unknown node, an adoption not newer than the table', () => {
    const plain = applyAll(withNodes(), [assign(0, 0, 'n1', ['n2'])]);
    expectRejected(plain, cmd('finishRestore', { snapshotHash: 'h-42', shards: [] }), 'WRONG_STATUS');
    expectRejected(restored(), cmd('finishRestore', { snapshotHash: 'other', shards: [] }), 'STALE_VERSION');
    const adopt = (over: Record<string, unknown>) => cmd('finishRestore', { snapshotHash: 'h-42', shards: [{ shardId: 0, expectedEpoch: 1, epoch: 5, primary: 'n1', replicas: [], inSync: ['n1'], ...over }] });
    expectRejected(restored(), adopt({ expectedEpoch: 0 }), 'STALE_EPOCH');
    expectRejected(restored(), adopt({ primary: 'n9', inSync: ['n9'] }), 'UNKNOWN_NODE');
    expectRejected(restored(), adopt({ epoch: 1 }), 'INVALID_COMMAND');
    expectRejected(restored(), adopt({ inSync: [] }), 'INVALID_COMMAND');
  });

  test('a snapshot with the window reads back; a malformed window is refused naming the field', () => {
    const s = restored();
    expect(deserializeState(serializeState(s)).restoring).toEqual(WINDOW);
    const bad = { ...s, restoring: { ...WINDOW, snapshotIndex: -1 } };
    expect(() => deserializeState(serializeState(bad))).toThrow(/restoring/);
  });
});
