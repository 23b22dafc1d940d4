import { describe, expect, test } from 'vitest';
import { applyMemberChange, encodeMemberContext, memberById, stateHash, type MemberChange, type RoutingState } from '../../../src/coordinator/routing/index.js';
import { T0, deepFreeze, fresh, meta } from './helpers.js';

const bootstrap = () =>
  fresh({
    members: [
      { id: 'c1', host: '127.0.0.11', apiPort: 7001, peerPort: 7101 },
      { id: 'c2', host: '127.0.0.12', apiPort: 7002, peerPort: 7102 },
      { id: 'c3', host: '127.0.0.13', apiPort: 7003, peerPort: 7103 },
    ],
  });

const c4 = (atMs = T0) => encodeMemberContext({ atMs, host: '127.0.0.14', apiPort: 7004, peerPort: 7104 });

function ok(state: RoutingState, change: MemberChange): RoutingState {
  const out = applyMemberChange(state, change, meta());
  if (!out.result.ok) throw new Error(out.result.message);
  return out.state;
}

function refused(state: RoutingState, change: MemberChange, code: string) {
  const hash = stateHash(state);
  const out = applyMemberChange(deepFreeze(state), change, meta());
  expect(out.result).toMatchObject({ ok: false, code });
  expect(out.state).toBe(state);
  expect(stateHash(out.state)).toBe(hash);
}

describe('applyMemberChange', () => {
  test('the cluster file’s coordinators are voters from the start', () => {
    expect(memberById(bootstrap(), 'c2')).toEqual({ id: 'c2', host: '127.0.0.12', apiPort: 7002, peerPort: 7102, role: 'voter' });
  });

  test('a replica joins as a learner, is promoted, and is removed, each an event', () => {
    let state = ok(bootstrap(), { type: 'addLearner', node: 'c4', context: c4(T0 + 1) });
    expect(memberById(state, 'c4')).toEqual({ id: 'c4', host: '127.0.0.14', apiPort: 7004, peerPort: 7104, role: 'learner' });
    state = ok(state, { type: 'promote', node: 'c4', context: encodeMemberContext({ atMs: T0 + 2 }) });
    expect(memberById(state, 'c4')?.role).toBe('voter');
    state = ok(state, { type: 'remove', node: 'c1', context: encodeMemberContext({ atMs: T0 + 3, reason: 'replaced by c4' }) });
    expect(Object.keys(state.members).sort()).toEqual(['c2', 'c3', 'c4']);
    expect(state.events.items.map((e) => [e.kind, e.member, e.timeMs])).toEqual([
      ['member-added', 'c4', T0 + 1],
      ['member-promoted', 'c4', T0 + 2],
      ['member-removed', 'c1', T0 + 3],
    ]);
    expect(state.events.items.at(-1)?.reason).toBe('replaced by c4');
  });

  test('a change without a stamped time takes the latest known time', () => {
    const state = ok(ok(bootstrap(), { type: 'addLearner', node: 'c4', context: c4(T0 + 50) }), { type: 'remove', node: 'c4' });
    expect(state.events.items.at(-1)).toMatchObject({ kind: 'member-removed', timeMs: T0 + 50 });
  });

  test('removing a member the table does not know, or a repeat, changes nothing', () => {
    const state = bootstrap();
    const out = applyMemberChange(state, { type: 'remove', node: 'c9' }, meta());
    expect(out.result).toMatchObject({ ok: true, changed: false, member: null });
    expect(out.state).toBe(state);
    const added = ok(state, { type: 'addLearner', node: 'c4', context: c4() });
    expect(applyMemberChange(added, { type: 'addLearner', node: 'c4', context: c4() }, meta()).state).toBe(added);
  });

  test('metadata that cannot be recorded is a rejection with the state unchanged', () => {
    const state = bootstrap();
    refused(state, { type: 'addLearner', node: 'c4' }, 'UNKNOWN_MEMBER');
    refused(state, { type: 'promote', node: 'c4', context: encodeMemberContext({ atMs: T0 }) }, 'UNKNOWN_MEMBER');
    refused(state, { type: 'addLearner', node: 'c4', context: 'not json' }, 'INVALID_MEMBER');
    refused(state, { type: 'addLearner', node: 'c4', context: JSON.stringify({ atMs: T0, host: 'h', apiPort: 1 }) }, 'INVALID_MEMBER');
    refused(state, { type: 'addLearner', node: 'c4', context: JSON.stringify({ atMs: T0, host: 'h', apiPort: 1, peerPort: 70_000 }) }, 'INVALID_MEMBER');
    refused(state, { type: 'join' as 'remove', node: 'c4' }, 'INVALID_MEMBER');
    refused(state, { type: 'remove', node: '' }, 'INVALID_MEMBER');
  });

  test('a promoted member whose context carries addresses is recorded even if the table missed its join', () => {
    const state = ok(bootstrap(), { type: 'promote', node: 'c4', context: c4() });
    expect(memberById(state, 'c4')?.role).toBe('voter');
  });
});
