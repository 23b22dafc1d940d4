import { describe, expect, test } from 'vitest';
import { initialState } from '../support/raft-cluster.js';
import { drain, heartbeat, newNode, ticksUntil } from './helpers.js';

/** A lone leader of {a,b,c} (the test plays b and c), heartbeat every tick. */
function leader() {
  const n = newNode('a', ['a', 'b', 'c'], { preVote: false });
  ticksUntil(n, () => n.status().role === 'candidate');
  n.step({ type: 'voteResp', from: 'b', to: 'a', term: n.status().term, reject: false });
  drain(n);
  return n;
}

describe('a leader\'s messages while its write is in flight (RawNode.takeLeaderHeartbeats)', () => {
  test('heartbeats made while a Ready is in flight go out at once, nothing else; the next Ready has none of them twice', () => {
    const n = leader();
    n.propose(new Uint8Array([1]));
    const rd = n.ready();
    expect(rd.entries).toHaveLength(1);
    // The write of rd is in flight: ticks still make heartbeats (appends follow the peers' flow control as always).
    n.tick();
    n.propose(new Uint8Array([2]));
    const early = n.takeLeaderHeartbeats();
    expect(early.map((m) => m.type)).toEqual(['heartbeat', 'heartbeat']);
    expect(early.map((m) => m.to).sort()).toEqual(['b', 'c']);
    expect(n.takeLeaderHeartbeats()).toEqual([]);
    n.advance();
    // The entry proposed meanwhile is persisted by the next Ready; nothing counted itself before its write.
    const next = n.ready();
    expect(next.entries.map((e) => e.index)).toEqual([rd.entries[0]!.index + 1]);
    expect(next.messages.filter((m) => m.type === 'heartbeat')).toEqual([]);
    n.advance();
  });

  test('nothing without a Ready in flight, and nothing from a follower (its answers wait for its write)', () => {
    const n = leader();
    n.tick();
    expect(n.takeLeaderHeartbeats()).toEqual([]);
    const f = newNode('a', ['a', 'b', 'c'], {}, initialState({ term: 2 }));
    f.step(heartbeat('c', 'a', 2));
    f.ready();
    f.step(heartbeat('c', 'a', 2));
    expect(f.takeLeaderHeartbeats()).toEqual([]);
  });
});
