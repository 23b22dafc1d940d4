import { describe, expect, test } from 'vitest';
import { DEFAULT_CLUSTER_SETTINGS } from '../../../src/config/settings.js';
import { apply, applyEntry, encodeCommand, initialState, invariantViolations, stateHash, type RoutingState } from '../../../src/coordinator/routing/index.js';
import { applyAll, assign, expectRejected, fresh, meta, register, withNodes } from './helpers.js';

describe('initialState', () => {
  test('N unassigned shards at epoch 0, the settings at version 1, no nodes, no events', () => {
    const state = initialState({ clusterId: 'torua-dev', shards: 3, settings: {} });
    expect(state).toEqual({
      clusterId: 'torua-dev',
      nodes: {},
      shards: [0, 1, 2].map((id) => ({ id, primary: null, replicas: [], inSync: [], epoch: 0, state: 'unassigned' })),
      config: { version: 1, settings: DEFAULT_CLUSTER_SETTINGS },
      members: {},
      events: { capacity: 1000, nextSeq: 1, items: [] },
    });
    expect(invariantViolations(state)).toEqual([]);
  });

  test('every replica builds the same table from the same file, whatever order it lists the coordinators in', () => {
    const c1 = { id: 'c1', host: '127.0.0.11', apiPort: 7001, peerPort: 7101 };
    const c2 = { id: 'c2', host: '127.0.0.12', apiPort: 7002, peerPort: 7102 };
    const a = initialState({ clusterId: 'x', shards: 8, settings: { replicationFactor: 3 }, members: [c1, c2] });
    const b = initialState({ clusterId: 'x', shards: 8, settings: { replicationFactor: 3 }, members: [c2, c1] });
    expect(stateHash(a)).toBe(stateHash(b));
  });

  test('bad input is refused at bootstrap', () => {
    expect(() => initialState({ clusterId: 'x', shards: 0 })).toThrow(/shards/);
    expect(() => initialState({ clusterId: '', shards: 1 })).toThrow(/clusterId/);
    expect(() => initialState({ clusterId: 'x', shards: 1, settings: { replicationFactor: 9 } })).toThrow(/replicationFactor/);
    const c1 = { id: 'c1', host: 'h', apiPort: 1, peerPort: 2 };
    expect(() => initialState({ clusterId: 'x', shards: 1, members: [c1, c1] })).toThrow(/listed twice/);
  });
});

describe('apply', () => {
  test('never throws: anything that is not a command is a rejection naming the field', () => {
    const state = fresh();
    for (const garbage of [undefined, null, 42, 'assignShard', [], { type: 'assignShard' }, { type: 'nope' }]) {
      const r = expectRejected(state, garbage, 'INVALID_COMMAND');
      expect(r.field).toBeDefined();
    }
  });

  test('a bug surfacing as an exception is an INTERNAL rejection, with the state unchanged', () => {
    const broken = { ...fresh(), nodes: null } as unknown as RoutingState;
    const out = apply(broken, register('n1'), meta());
    expect(out.state).toBe(broken);
    expect(out.result).toMatchObject({ ok: false, code: 'INTERNAL' });
  });

  test('the input state is never mutated, and untouched parts are shared', () => {
    const before = withNodes();
    const json = JSON.stringify(before);
    const { state: after } = apply(before, assign(0, 0, 'n1', ['n2']), meta());
    expect(JSON.stringify(before)).toBe(json);
    expect(after.nodes).toBe(before.nodes);
    expect(after.config).toBe(before.config);
    expect(after.shards[1]).toBe(before.shards[1]);
  });

  test('applyEntry decodes, validates and applies; bad bytes are a rejection', () => {
    const state = fresh();
    expect(applyEntry(state, encodeCommand(register('n1')), meta()).state.nodes.n1?.status).toBe('unknown');
    const out = applyEntry(state, new TextEncoder().encode('{"v":9}'), meta());
    expect(out).toEqual({ state, result: expect.objectContaining({ ok: false, code: 'UNSUPPORTED_VERSION' }) });
  });

  test('the same commands applied twice from scratch give equal hashes', () => {
    const log = [register('n1'), register('n2'), assign(0, 0, 'n1', ['n2']), assign(1, 0, 'n2')];
    const replay = () => log.reduce((s, c, i) => apply(s, c, { index: i + 1, term: 2 }).state, fresh());
    expect(stateHash(replay())).toBe(stateHash(replay()));
    // The Raft position is part of each event, so it is part of the state.
    expect(stateHash(applyAll(fresh(), log))).not.toBe(stateHash(replay()));
  });
});
