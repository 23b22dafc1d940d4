// `torua explain` and `torua plan` against a coordinator API server over the real routing table.
import { afterEach, describe, expect, it } from 'vitest';
import { parseJoin } from '../../src/cli/plan-command.js';
import { FakeCoordinatorService, registerCommand } from '../api/fake-service.js';
import { startServer, type RunningServer } from '../api/helpers.js';
import { torua } from '../support/run-cli.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function served() {
  const service = new FakeCoordinatorService({ shards: 2 });
  for (const id of ['n1', 'n2', 'n3']) {
    await service.propose(registerCommand(id));
    await service.propose({ type: 'setNodeStatus', atMs: Date.now(), reason: 'probed', nodeId: id, status: 'healthy' });
  }
  await service.propose({ type: 'assignShard', atMs: 0, reason: 'placed by hand', shardId: 0, expectedEpoch: 0, primary: 'n1', replicas: ['n2'] });
  await service.propose({ type: 'assignShard', atMs: 0, reason: 'placed by hand', shardId: 1, expectedEpoch: 0, primary: 'n2', replicas: ['n3'] });
  const server = await startServer(service);
  servers.push(server);
  return { service, at: ['--coordinators', server.address] };
}

describe('torua explain', () => {
  it('prints each copy with why, each node with what says no, and what blocks the shard', async () => {
    const { at } = await served();
    const { code, out, err } = await torua('explain', '0', ...at);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^shard 0 \(epoch 1\)/);
    expect(out).toMatch(/n1\s+primary\s+yes\s+primary on healthy n1; placed by: placed by hand/);
    expect(out).toMatch(/n2\s+no\s+same-shard: n2 holds a copy of shard 0 already/);
    expect(out).toMatch(/n3\s+yes/);
    expect(out).toContain('nothing blocks it');
    const json = await torua('explain', '1', '--json', ...at);
    expect(JSON.parse(json.out)).toMatchObject({ ok: true, command: 'explain', data: { shard: 1, copies: [{ node: 'n2', role: 'primary' }, { node: 'n3', role: 'replica' }] } });
  });

  it('refuses a missing or bad shard id with usage (2), and an unknown shard with the cluster’s 404 (1)', async () => {
    const { at } = await served();
    expect((await torua('explain', ...at)).code).toBe(2);
    expect((await torua('explain', 'x', ...at)).err).toContain("'x' is not a shard id");
    const missing = await torua('explain', '7', ...at);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no shard 7/);
  });
});

describe('torua plan', () => {
  it('prints the moves in order and the counts after, for --fail', async () => {
    const { at, service } = await served();
    const before = service.proposed.length;
    const { code, out, err } = await torua('plan', '--fail', 'n2', ...at);
    expect(err).toBe('');
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^#\s+SHARD\s+COMMAND\s+NODE\s+REASON$/);
    // The failover rule's steps come first, in shard order: n2 leaves shard 0's in-sync set, n3 takes over shard 1.
    expect(lines[1]).toMatch(/^1\s+0\s+setInSync\s+n2\s+failover: replica n2 of shard 0 failed; the primary n1 need not wait for it$/);
    expect(lines[2]).toMatch(/^2\s+1\s+promotePrimary\s+n3\s+failover: primary n2 \(unhealthy\) cannot keep shard 1; n3 is in sync$/);
    expect(out).toMatch(/n2\s+0\s+0/);
    expect(out).toContain('no shard left under-replicated');
    expect(service.proposed.length).toBe(before);
  });

  it('takes --new-node ID:CAP:labels, and refuses a malformed one (2) or an unknown node (1)', async () => {
    const { at } = await served();
    const joined = await torua('plan', '--new-node', 'n4:8:zone=b', '--json', ...at);
    expect(joined.code).toBe(0);
    expect(JSON.parse(joined.out).data.result.nodes.n4.copies).toBeGreaterThan(0);
    expect(parseJoin('n5:16:zone=a,rack=r2')).toEqual({ id: 'n5', capacity: 16, labels: { zone: 'a', rack: 'r2' } });
    expect((await torua('plan', '--new-node', 'n4', ...at)).code).toBe(2);
    const unknown = await torua('plan', '--fail', 'n9', ...at);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('fail[0]: no node n9 in the table');
  });
});
