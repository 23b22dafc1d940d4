// `torua config get|set` against a coordinator API server (the routing table applied for real; the nodes' renewals
// are played by the test through the same API).
import { describe, expect, it } from 'vitest';
import { parseAssignments } from '../../src/cli/config-command.js';
import { createClusterClient } from '../../src/client/index.js';
import { FakeCoordinatorService } from '../api/fake-service.js';
import { startServer } from '../api/helpers.js';
import { torua } from '../support/run-cli.js';

async function served() {
  const service = new FakeCoordinatorService({ shards: 2 });
  const server = await startServer(service);
  const client = createClusterClient({ coordinators: [server.address] });
  for (const id of ['n1', 'n2']) await client.nodes.register.mutate({ id, address: `127.0.0.1:${id === 'n1' ? 8081 : 8082}`, identity: `id-${id}` });
  return { service, client, at: ['--coordinators', server.address] };
}

describe('parseAssignments', () => {
  it('builds a nested patch from dotted keys, JSON values where they parse', () => {
    expect(parseAssignments(['health.leaseMs=2000', 'health.probeIntervalMs=300', 'maxValueBytes=1024', 'x=abc'])).toEqual({
      ok: true,
      patch: { health: { leaseMs: 2000, probeIntervalMs: 300 }, maxValueBytes: 1024, x: 'abc' },
    });
  });

  it('refuses what is no assignment, a key given twice, and a key that is both a value and a group', () => {
    expect(parseAssignments([])).toMatchObject({ ok: false, error: /at least one/ });
    expect(parseAssignments(['leaseMs'])).toMatchObject({ ok: false, error: /KEY=VALUE/ });
    expect(parseAssignments(['.a=1'])).toMatchObject({ ok: false, error: /KEY=VALUE/ });
    expect(parseAssignments(['a=1', 'a=2'])).toMatchObject({ ok: false, error: /a is given twice/ });
    expect(parseAssignments(['health=1', 'health.leaseMs=2'])).toMatchObject({ ok: false, error: /health is given a value/ });
  });
});

describe('torua config', () => {
  it('get shows the version, the settings and the version each node runs', async () => {
    const { client, at } = await served();
    await client.nodes.renewLease.mutate({ id: 'n1', identity: 'id-n1', configVersion: 1 });
    const deadline = Date.now() + 5_000;
    let got = await torua('config', 'get', ...at);
    while (!/n1=1/.test(got.out) && Date.now() < deadline) got = await torua('config', 'get', ...at);
    expect(got.code).toBe(0);
    expect(got.out).toMatch(/^version 1\n/);
    expect(got.out).toMatch(/"replicationFactor": 2/);
    expect(got.out).toMatch(/nodes \(version each runs\): n1=1 n2=-  \(1 not on 1\)/);
    const json = await torua('config', 'get', '--json', ...at);
    expect(JSON.parse(json.out)).toMatchObject({ ok: true, command: 'config get', data: { version: 1, settings: { maxValueBytes: 16 * 1024 * 1024 }, nodes: { n1: 1, n2: null } } });
  });

  it('set commits a new version; a field the cluster refuses is named, with exit 1 and nothing changed', async () => {
    const { service, at } = await served();
    const set = await torua('config', 'set', 'maxValueBytes=2048', 'health.leaseMs=2000', ...at);
    expect(set).toMatchObject({ code: 0, err: '' });
    expect(set.out).toMatch(/settings version 2 committed/);
    expect(service.state.config).toMatchObject({ version: 2, settings: { maxValueBytes: 2048, health: { leaseMs: 2000 } } });
    const same = await torua('config', 'set', 'maxValueBytes=2048', ...at);
    expect(same.out).toMatch(/unchanged/);
    const bad = await torua('config', 'set', 'health.bogus=1', ...at);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/health\.bogus/);
    expect(service.state.config.version).toBe(2);
    expect((await torua('config', 'set', 'nonsense', ...at)).code).toBe(2);
    expect((await torua('config', 'frob', ...at)).code).toBe(2);
  });

  it('set --wait waits until every serving node runs the new version', async () => {
    const { client, at } = await served();
    const ran: Record<string, number | undefined> = {};
    let stop = false;
    const renewing = (async () => {
      for (let i = 0; i < 2_000 && !stop; i++) {
        for (const id of ['n1', 'n2']) {
          const grant = await client.nodes.renewLease.mutate({ id, identity: `id-${id}`, ...(ran[id] === undefined ? {} : { configVersion: ran[id] }) });
          ran[id] = grant.configVersion;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      const set = await torua('config', 'set', 'maxValueBytes=4096', '--wait', ...at);
      expect(set.err).toBe('');
      expect(set.code).toBe(0);
      expect(set.out).toMatch(/settings version 2 committed; every serving node runs it\nnodes \(version each runs\): n1=2 n2=2\n/);
    } finally {
      stop = true;
      await renewing;
    }
  });
});
