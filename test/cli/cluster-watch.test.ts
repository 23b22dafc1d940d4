import { describe, expect, it } from 'vitest';
import type { ReplicaHealth } from '../../src/api/coordinator/index.js';
import type { ReplicaProbe } from '../../src/client/index.js';
import { initialWatchState, watchStep, type WatchState } from '../../src/cli/cluster-watch.js';

const ids = ['c1', 'c2', 'c3'];

function up(id: string, role: ReplicaHealth['role'], term: number): ReplicaProbe {
  const health = { id, role, term, leader: role === 'leader' ? id : null } as ReplicaHealth;
  return { address: `127.0.0.1:700${id.slice(1)}`, ok: true, health, latencyMs: 1 };
}
const down = (id: string): ReplicaProbe => ({ address: `127.0.0.1:700${id.slice(1)}`, ok: false, error: 'connection refused' });

/** Feeds rounds of probes; returns the lines of each round. */
function run(rounds: ReplicaProbe[][]): string[][] {
  let state: WatchState = initialWatchState;
  return rounds.map((probes) => {
    const step = watchStep(state, ids, probes);
    state = step.state;
    return step.lines;
  });
}

describe('cluster up: state changes, a line each', () => {
  it('reports replicas coming up and a leader elected, then nothing while nothing changes', () => {
    const lines = run([
      [down('c1'), down('c2'), down('c3')],
      [up('c1', 'follower', 0), down('c2'), up('c3', 'follower', 0)],
      [up('c1', 'leader', 1), up('c2', 'follower', 1), up('c3', 'follower', 1)],
      [up('c1', 'leader', 1), up('c2', 'follower', 1), up('c3', 'follower', 1)],
    ]);
    expect(lines).toEqual([[], ['c1 up (follower, term 0)', 'c3 up (follower, term 0)'], ['c2 up (follower, term 1)', 'leader elected: c1 (term 1)'], []]);
  });

  it('a failover reads as a change, also across rounds without a leader; a replica is down after two misses', () => {
    const steady = [up('c1', 'leader', 1), up('c2', 'follower', 1), up('c3', 'follower', 1)];
    const lines = run([
      steady,
      [down('c1'), up('c2', 'candidate', 2), up('c3', 'follower', 2)],
      [down('c1'), up('c2', 'candidate', 2), up('c3', 'follower', 2)],
      [down('c1'), up('c2', 'leader', 2), up('c3', 'follower', 2)],
      [up('c1', 'follower', 2), up('c2', 'leader', 2), up('c3', 'follower', 2)],
      [up('c1', 'follower', 3), up('c2', 'leader', 3), up('c3', 'follower', 3)],
    ]);
    expect(lines.slice(1)).toEqual([
      ['no leader (was c1, term 1): election running'],
      ['c1 down (connection refused)'],
      ['leader changed: c1 → c2 (term 2)'],
      ['c1 up (follower, term 2)'],
      ['leader c2 re-elected (term 2 → 3)'],
    ]);
  });

  it('one missed probe is not a replica down; a stale leader at a lower term is not the leader', () => {
    const lines = run([
      [up('c1', 'leader', 1), up('c2', 'follower', 1), up('c3', 'follower', 1)],
      [up('c1', 'leader', 1), down('c2'), up('c3', 'follower', 1)],
      [up('c1', 'leader', 1), up('c2', 'leader', 2), up('c3', 'follower', 2)],
    ]);
    expect(lines.slice(1)).toEqual([[], ['leader changed: c1 → c2 (term 2)']]);
  });
});
