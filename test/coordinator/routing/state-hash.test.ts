import { describe, expect, test } from 'vitest';
import { canonicalJsonShared } from '../../../src/coordinator/routing/canonical-json.js';
import { createHash } from 'node:crypto';
import { canonicalJson, deserializeState, serializeState, stateHash, type RoutingState } from '../../../src/coordinator/routing/index.js';
import { applyAll, assign, cmd, fresh, register, withNodes } from './helpers.js';

/** The same value with every object's keys inserted in reverse order. */
function reversedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reversedKeys) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .reverse()
      .map((k) => [k, reversedKeys((value as Record<string, unknown>)[k])]),
  ) as T;
}

describe('stateHash', () => {
  test('is SHA-256 hex of the canonical JSON', () => {
    expect(stateHash(fresh())).toMatch(/^[0-9a-f]{64}$/);
    expect(canonicalJson({ b: 1, a: [{ d: null, c: 'x' }] })).toBe('{"a":[{"c":"x","d":null}],"b":1}');
  });

  test('equal states hash equally whatever order keys were inserted in', () => {
    const state = applyAll(withNodes(), [cmd('setNodeLabels', { nodeId: 'n1', labels: { zone: 'a', rack: 'r1' } }), assign(0, 0, 'n1', ['n2'])]);
    const reordered = reversedKeys(state);
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(state));
    expect(stateHash(reordered)).toBe(stateHash(state));
  });

  test('nodes registered in another order give the same table, but not the same events', () => {
    const a = applyAll(fresh({ eventCapacity: 0 }), [register('n1'), register('n2')]);
    const b = applyAll(fresh({ eventCapacity: 0 }), [register('n2'), register('n1')]);
    expect(Object.keys(a.nodes)).not.toEqual(Object.keys(b.nodes));
    expect(stateHash(a)).toBe(stateHash(b));
  });

  test('a chain of states sharing their parts hashes exactly as serializing each from scratch', () => {
    let state = withNodes();
    const sha = (s: RoutingState) => createHash('sha256').update(canonicalJson(s), 'utf8').digest('hex');
    const commands = [
      cmd('setNodeLabels', { nodeId: 'n1', labels: { zone: 'a' } }),
      assign(0, 0, 'n1', ['n2']),
      cmd('setNodeLabels', { nodeId: 'n1', labels: { zone: 'b' } }),
      register('n9'),
      cmd('setNodeLabels', { nodeId: 'n2', labels: { rack: 'r2' } }),
    ];
    for (const c of commands) {
      const next = applyAll(state, [c]);
      expect(next).not.toBe(state);
      expect(canonicalJsonShared(next)).toBe(canonicalJson(next));
      expect(stateHash(next)).toBe(sha(next));
      state = next;
    }
  });

  test('any difference shows', () => {
    const state = withNodes();
    const changed: RoutingState = { ...state, nodes: { ...state.nodes, n1: { ...state.nodes.n1!, capacity: 9 } } };
    expect(stateHash(changed)).not.toBe(stateHash(state));
    expect(stateHash(fresh({ clusterId: 'other' }))).not.toBe(stateHash(fresh()));
  });

  test('canonicalJson refuses what JSON cannot say', () => {
    expect(() => canonicalJson({ a: undefined })).toThrow(TypeError);
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
  });
});

describe('serializeState / deserializeState', () => {
  const busy = () =>
    applyAll(withNodes(['n1', 'n2', 'constructor']), [
      cmd('setNodeLabels', { nodeId: 'n1', labels: { 'topology/zone': '数字' } }),
      assign(0, 0, 'n1', ['n2']),
      assign(1, 0, 'constructor', []),
      cmd('moveShard', { shardId: 0, expectedEpoch: 1, primary: 'n1', replicas: ['constructor', 'n2'] }),
      cmd('updateSettings', { expectedVersion: 1, settings: { health: { leaseMs: 1_500 } } }),
    ]);

  test('round-trips exactly: equal value, equal hash, equal bytes', () => {
    const state = busy();
    const bytes = serializeState(state);
    const back = deserializeState(bytes);
    expect(back).toEqual(state);
    expect(stateHash(back)).toBe(stateHash(state));
    expect(serializeState(back)).toEqual(bytes);
  });

  const text = (state: RoutingState) => new TextDecoder().decode(serializeState(state));
  const bytes = (s: string) => new TextEncoder().encode(s);
  const corrupt = (s: string) => () => deserializeState(bytes(s));

  test('a corrupt snapshot is a clear error naming what is wrong', () => {
    const good = text(busy());
    expect(corrupt(good.slice(0, 100))).toThrow(/not UTF-8 JSON/);
    expect(() => deserializeState(new Uint8Array([0xc3, 0x28]))).toThrow(/not UTF-8 JSON/);
    expect(corrupt('{"format":"other","version":1,"state":{}}')).toThrow(/not a routing snapshot/);
    expect(corrupt(good.replace('"version":1}', '"version":7}'))).toThrow(/version 7/);
    expect(corrupt(good.replace('"capacity":8', '"capacity":-8'))).toThrow(/state\.nodes\.[\w]+\.capacity/);
    expect(corrupt(good.replace('"status":"healthy"', '"status":"suspect"'))).toThrow(/state\.nodes\.\w+\.status/);
    expect(corrupt(good.replace('"clusterId":"test"', '"clusterId":"test","extra":1'))).toThrow(/state\.extra/);
    expect(corrupt(good.replace('"leaseMs":1500', '"leaseMs":"soon"'))).toThrow(/state\.config\.settings\.health\.leaseMs/);
  });

  test('a snapshot that parses but breaks an invariant is refused too', () => {
    const good = text(busy());
    // Shard 1's copy on a node the table does not have.
    expect(corrupt(good.replace('"primary":"constructor"', '"primary":"ghost"'))).toThrow(/inconsistent.*unknown node ghost/);
    // A state field that does not match the copies.
    expect(corrupt(good.replace('"state":"recovering"', '"state":"active"'))).toThrow(/inconsistent.*shards\.0\.state/);
  });
});
