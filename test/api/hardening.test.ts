import { describe, expect, it } from 'vitest';
import { createAppCaller } from '../../src/api/coordinator/index.js';
import { ClusterErrorCode, isClusterError } from '../../src/errors/index.js';
import { createNoopMetrics, silentLogger } from '../../src/observability/index.js';
import { FakeCoordinatorService, nodeControlFor } from './fake-service.js';
import { rawRequest, startServer } from './helpers.js';

describe('hardening', () => {
  it('a node cannot be registered at a coordinator’s API or peer address (localhost included); nothing is proposed', async () => {
    const service = new FakeCoordinatorService();
    const caller = createAppCaller({ service, nodeControl: nodeControlFor(service), logger: silentLogger, metrics: createNoopMetrics() });
    for (const address of ['127.0.0.1:7001', 'localhost:7101']) {
      const err = await caller.nodes.register({ id: 'n1', address }).catch((e: unknown) => (e as { cause?: unknown }).cause);
      expect(isClusterError(err, ClusterErrorCode.Conflict) && err.message).toMatch(/coordinator c1/);
    }
    expect(service.proposed).toEqual([]);
    await caller.nodes.register({ id: 'n1', address: '127.0.0.1:7002' });
    expect(service.proposed).toHaveLength(1);
  });

  it('a tRPC batch of more than 16 calls is refused with 400 before any runs', async () => {
    const service = new FakeCoordinatorService();
    const server = await startServer(service);
    const paths = Array.from({ length: 17 }, () => 'cluster.health').join(',');
    const big = await rawRequest(`${server.url}/trpc/${paths}?batch=1`, 'GET');
    expect(big.status).toBe(400);
    const ok = await rawRequest(`${server.url}/trpc/${Array.from({ length: 16 }, () => 'cluster.health').join(',')}?batch=1`, 'GET');
    expect(ok.status).toBe(200);
  });
});
