import { afterEach, describe, expect, it } from 'vitest';
import { createAppCaller } from '../../src/api/coordinator/index.js';
import type { NodeControl } from '../../src/coordinator/node-control.js';
import type { NodeLink } from '../../src/coordinator/node-link.js';
import { createNoopMetrics, silentLogger } from '../../src/observability/index.js';
import { FakeCoordinatorService, nodeControlFor } from './fake-service.js';
import { waitFor } from './helpers.js';

const controls: NodeControl[] = [];
afterEach(async () => {
  await Promise.all(controls.splice(0).map((c) => c.close()));
});

const answering: NodeLink = {
  handoff: () => Promise.reject(new Error('no handoff')),
  probe: async (address) => ({ status: 'ok', id: address.endsWith(':8081') ? 'n1' : 'n2', lease: { valid: true, remainingMs: 500, leader: 'c1', term: 1 } }),
};

async function withNodes(service: FakeCoordinatorService): Promise<FakeCoordinatorService> {
  for (const [id, port] of [['n1', 8081], ['n2', 8082]] as const) {
    await service.propose({ type: 'registerNode', atMs: 0, reason: 'test', nodeId: id, address: `127.0.0.1:${port}`, capacity: 4, version: '0.1.0' });
  }
  return service;
}

function callerFor(service: FakeCoordinatorService) {
  const nodeControl = nodeControlFor(service, answering, { health: {} });
  controls.push(nodeControl);
  return { caller: createAppCaller({ service, nodeControl, logger: silentLogger, metrics: createNoopMetrics() }), nodeControl };
}

describe('nodes with the health monitor', () => {
  it('on the leader: the table status plus the monitor’s view, and last_heartbeat from the last probe', async () => {
    const service = await withNodes(new FakeCoordinatorService());
    const { caller } = callerFor(service);
    await waitFor('both nodes healthy', () => Object.values(service.state.nodes).every((n) => n.status === 'healthy'));
    const { nodes } = await caller.nodes.list();
    expect(nodes).toHaveLength(2);
    for (const n of nodes) {
      expect(n.status).toBe('healthy');
      expect(n.health).toMatchObject({ status: 'healthy', consecutive_failures: 0, path: 'ok' });
      expect(n.health!.last_successful_probe_ms_ago).toBeGreaterThanOrEqual(0);
      expect(typeof n.health!.changed_at_ms).toBe('number');
      expect(n.health!.reason).toBe('first probe answered');
      expect(Date.parse(n.last_heartbeat!)).toBeGreaterThan(0);
    }
    const one = await caller.nodes.get({ id: 'n2' });
    expect(one.health).toMatchObject({ status: 'healthy', path: 'ok' });
    expect(one.last_heartbeat).not.toBeNull();
  });

  it('on a follower: health and last_heartbeat are null (leader-local facts)', async () => {
    const service = (await withNodes(new FakeCoordinatorService({ id: 'c2' }))).followerOf('c1');
    const { caller, nodeControl } = callerFor(service);
    const { nodes } = await caller.nodes.list({ consistency: 'stale' });
    expect(nodes.map((n) => [n.health, n.last_heartbeat])).toEqual([
      [null, null],
      [null, null],
    ]);
    expect(nodeControl.healthReasons()).toEqual([]);
  });
});
