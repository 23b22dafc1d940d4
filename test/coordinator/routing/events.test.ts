import { describe, expect, test } from 'vitest';
import { eventsSince, invariantViolations } from '../../../src/coordinator/routing/index.js';
import { applyAll, applyOk, cmd, expectRejected, fresh, register } from './helpers.js';

describe('events', () => {
  test('each change is an event with its seq, Raft index and term, leader time and reason', () => {
    const state = fresh();
    const { state: next } = applyOk(state, cmd('registerNode', { nodeId: 'n1', address: 'h1:1', capacity: 1, version: 'v', atMs: 42, reason: 'POST /register' }));
    const [e] = next.events.items;
    expect(e).toMatchObject({ seq: 1, term: 3, timeMs: 42, kind: 'node-registered', node: 'n1', shard: null, member: null, reason: 'POST /register' });
    expect(e?.index).toBeGreaterThan(0);
    expect(next.events.nextSeq).toBe(2);
  });

  test('a rejected or idle command makes no event', () => {
    const state = applyAll(fresh(), [register('n1')]);
    expectRejected(state, register('n1', { capacity: -5 }), 'INVALID_COMMAND');
    expect(applyOk(state, register('n1')).state.events).toBe(state.events);
  });

  test('the ring keeps the latest `capacity` events; seqs keep counting', () => {
    let state = fresh({ eventCapacity: 5 });
    for (let i = 0; i < 12; i++) state = applyOk(state, register(`n${i}`)).state;
    expect(state.events.items.map((e) => e.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(state.events.nextSeq).toBe(13);
    expect(invariantViolations(state)).toEqual([]);
    expect(eventsSince(state, 10).map((e) => e.seq)).toEqual([11, 12]);
    expect(eventsSince(state, 0)).toHaveLength(5);
  });

  test('a ring of capacity 0 keeps nothing but still counts', () => {
    const state = applyAll(fresh({ eventCapacity: 0 }), [register('n1'), register('n2')]);
    expect(state.events).toEqual({ capacity: 0, nextSeq: 3, items: [] });
  });
});
