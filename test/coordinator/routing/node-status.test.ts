// The one status table, and the places that consult it: apply, the health monitor's detector and storm guard, the cluster state.
import { describe, expect, it } from 'vitest';
import { afterProbe, decidable, newNodeHealth } from '../../../src/coordinator/health/detector.js';
import { stormGuardRefusal } from '../../../src/coordinator/health/storm-guard.js';
import { clusterCounts, clusterHealth, NODE_STATUSES, STATUS_RULES, type NodeStatus } from '../../../src/coordinator/routing/index.js';
import { healthSettingsSchema } from '../../../src/config/settings.js';
import { T0, applyAll, assign, cmd, withNodes } from './helpers.js';

describe('STATUS_RULES', () => {
  it('has a row for every committed status and for suspect, and the rows an operator relies on', () => {
    expect(Object.keys(STATUS_RULES).sort()).toEqual([...NODE_STATUSES, 'suspect'].sort());
    for (const s of ['maintenance', 'evacuating'] as const) {
      expect(STATUS_RULES[s], s).toEqual({ acceptsNewCopies: false, copiesMoveAway: true, probed: true, mayBeDeclaredFailed: false, healthCount: 'excluded', serves: true, keepsCopies: false });
    }
    // A node restarted by a rolling upgrade: not declared failed, its copies stay (and count) for its catch-up, it takes none.
    expect(STATUS_RULES.restarting).toEqual({ acceptsNewCopies: false, copiesMoveAway: false, probed: true, mayBeDeclaredFailed: false, healthCount: 'excluded', serves: false, keepsCopies: true });
    expect(STATUS_RULES.healthy).toMatchObject({ acceptsNewCopies: true, mayBeDeclaredFailed: true, healthCount: 'healthy' });
    expect(STATUS_RULES.left).toMatchObject({ probed: false, serves: false });
  });

  it('the health monitor declares failed exactly the statuses the table allows, and a maintenance node never becomes suspect', () => {
    for (const s of NODE_STATUSES) expect(decidable(s), s).toBe(STATUS_RULES[s].mayBeDeclaredFailed);
    const settings = healthSettingsSchema.parse({});
    const failedTenTimes = (status: NodeStatus) => {
      let h = newNodeHealth({ id: 'n1', status, statusChangedAtMs: T0, statusReason: 'r' }, T0);
      for (let i = 1; i <= 10; i++) h = afterProbe(h, { ok: false, error: 'refused' }, settings, T0 + i * 250);
      expect(h.consecutiveFailures).toBe(10);
      return h.status;
    };
    expect(failedTenTimes('healthy')).toBe('suspect');
    expect(failedTenTimes('maintenance')).toBe('maintenance');
    expect(failedTenTimes('evacuating')).toBe('evacuating');
    expect(failedTenTimes('restarting')).toBe('restarting');
  });

  it('the storm guard counts planned absences neither way', () => {
    const node = (id: string, status: NodeStatus) => newNodeHealth({ id, status, statusChangedAtMs: T0, statusReason: '' }, T0);
    // Two healthy, two in maintenance: deciding one of the healthy ones leaves 1 of 2 counted: 50 %.
    const nodes = [node('n1', 'healthy'), node('n2', 'healthy'), node('n3', 'maintenance'), node('n4', 'evacuating')];
    expect(stormGuardRefusal(nodes, 'n1', 0.5)).toBeUndefined();
    expect(stormGuardRefusal(nodes, 'n1', 0.6)).toMatch(/storm guard: 1 of 2 nodes failing/);
  });

  it('healthy_nodes counts only healthy ones, and copies on a node whose copies move away make the cluster yellow', () => {
    let state = applyAll(withNodes(['n1', 'n2', 'n3']), [assign(0, 0, 'n1', ['n2']), assign(1, 0, 'n2', ['n3']), assign(2, 0, 'n3', ['n1']), assign(3, 0, 'n1', ['n3'])]);
    expect(clusterHealth(state).status).toBe('green');
    state = applyAll(state, [cmd('startEvacuation', { nodeId: 'n2' })]);
    expect(clusterCounts(state)).toMatchObject({ totalNodes: 3, healthyNodes: 2 });
    const health = clusterHealth(state);
    expect(health.status).toBe('yellow');
    expect(health.reasons).toContain('shard 0: copies on n2 (evacuating) are moving away');
  });
});
