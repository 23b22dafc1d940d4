import { describe, expect, it } from 'vitest';
import { newNodeHealth, stormGuardRefusal, tallyVotes, type NodeHealth } from '../../../src/coordinator/health/index.js';
import type { NodeStatus } from '../../../src/coordinator/routing/index.js';

const health = (id: string, tableStatus: NodeStatus, suspect = false): NodeHealth => ({
  ...newNodeHealth({ id, status: tableStatus, statusChangedAtMs: 0, statusReason: '' }, 0),
  ...(suspect ? { status: 'suspect' as const, consecutiveFailures: 3 } : {}),
});

describe('storm guard', () => {
  it('lets one failure of three through', () => {
    expect(stormGuardRefusal([health('n1', 'healthy', true), health('n2', 'healthy'), health('n3', 'healthy')], 'n1', 0.5)).toBeUndefined();
  });

  it('holds when two of three fail at once, counting the other suspect as failing, and says why', () => {
    const nodes = [health('n1', 'healthy', true), health('n2', 'healthy', true), health('n3', 'healthy')];
    expect(stormGuardRefusal(nodes, 'n1', 0.5)).toBe('storm guard: 2 of 3 nodes failing, deciding would leave 1 of 3 healthy (< 50%)');
    expect(stormGuardRefusal(nodes, 'n2', 0.5)).toBe('storm guard: 2 of 3 nodes failing, deciding would leave 1 of 3 healthy (< 50%)');
  });

  it('counts nodes already unhealthy, ignores nodes that left, and follows the fraction', () => {
    const nodes = [health('n1', 'unhealthy'), health('n2', 'healthy', true), health('n3', 'healthy'), health('n4', 'left')];
    expect(stormGuardRefusal(nodes, 'n2', 0.5)).toMatch(/^storm guard: 2 of 3 nodes failing, deciding would leave 1 of 3 healthy/);
    expect(stormGuardRefusal(nodes, 'n2', 0.3)).toBeUndefined();
    expect(stormGuardRefusal(nodes, 'n2', 0)).toBeUndefined();
  });

  it('does not count unknown nodes as healthy (as apply does not)', () => {
    const nodes = [health('n1', 'healthy', true), health('n2', 'unknown'), health('n3', 'unknown')];
    expect(stormGuardRefusal(nodes, 'n1', 0.5)).toBe('storm guard: 1 of 3 nodes failing, deciding would leave 0 of 3 healthy (< 50%)');
  });
});

describe('confirmation tally', () => {
  const voters = ['c1', 'c2', 'c3'];

  it('confirms with a majority, the leader counted first', () => {
    const t = tallyVotes('n2', 'c1', voters, [
      { replica: 'c2', reachable: false, error: 'timeout' },
      { replica: 'c3', unanswered: 'ECONNREFUSED' },
    ]);
    expect(t).toMatchObject({ verdict: 'confirmed', confirmedBy: ['c1', 'c2'], refutedBy: [], unanswered: ['c3'], voters: 3, needed: 2 });
    expect(t.reason).toBe('c1, c2 (2 of 3 replicas) saw n2 fail');
  });

  it('one replica reaching the node refutes: the leader has a degraded path', () => {
    const t = tallyVotes('n2', 'c1', voters, [
      { replica: 'c2', reachable: true },
      { replica: 'c3', reachable: true },
    ]);
    expect(t.verdict).toBe('refuted');
    expect(t.reason).toBe('leader c1 cannot reach n2; c2, c3 can');
    expect(tallyVotes('n2', 'c1', voters, [{ replica: 'c2', reachable: false }, { replica: 'c3', reachable: true }]).verdict).toBe('refuted');
  });

  it('no majority when the others do not answer, naming them', () => {
    const t = tallyVotes('n2', 'c1', voters, [{ replica: 'c2', unanswered: 'timeout' }]);
    expect(t).toMatchObject({ verdict: 'no_majority', confirmedBy: ['c1'], unanswered: ['c2', 'c3'] });
    expect(t.reason).toBe('only 1 of 3 replicas (c1) saw n2 fail, 2 needed; no answer from c2, c3');
  });

  it('a single voter decides alone; votes of non-voters do not count', () => {
    expect(tallyVotes('n2', 'c1', ['c1'], []).verdict).toBe('confirmed');
    const t = tallyVotes('n2', 'c1', voters, [{ replica: 'c9', reachable: false }]);
    expect(t.verdict).toBe('no_majority');
    expect(t.confirmedBy).toEqual(['c1']);
  });
});
