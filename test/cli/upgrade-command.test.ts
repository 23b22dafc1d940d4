// `torua upgrade` against a coordinator API server (the routing table applied for real; the nodes' restarts played by
// the test): usage errors before anything is sent, a restart that fails stops the upgrade with exit 1 and records it,
// and a second upgrade while one runs is refused.
import { describe, expect, it } from 'vitest';
import { FakeCoordinatorService, registerCommand } from '../api/fake-service.js';
import { startServer } from '../api/helpers.js';
import { torua } from '../support/run-cli.js';

async function served() {
  const service = new FakeCoordinatorService({ shards: 2 });
  for (const id of ['n1', 'n2']) await service.propose(registerCommand(id));
  const server = await startServer(service);
  return { service, at: ['--coordinators', server.address] };
}

describe('torua upgrade', () => {
  it('checks its arguments before connecting', async () => {
    for (const [argv, message] of [
      [['upgrade', '--restart', 'x {id}'], /--to VERSION is required/],
      [['upgrade', '--to', '0.1.1'], /--restart COMMAND is required/],
      [['upgrade', '--to', '0.1.1', '--restart', 'systemctl restart torua'], /must contain \{id\}/],
      [['upgrade', '--to', '0.1.1', '--restart', 'x {id}', '--timeout', 'soon'], /--timeout: expected a duration/],
    ] as const) {
      const r = await torua(...argv, '--coordinators', '127.0.0.1:9');
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
    }
  });

  it('a restart command that fails stops the upgrade at that node: exit 1, recorded, the node an ordinary one again', async () => {
    const { service, at } = await served();
    const r = await torua('upgrade', '--to', '0.1.9', '--restart', 'echo restarting {id}; exit 3', '--timeout', '10s', ...at);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toMatch(/upgrade to 0\.1\.9 stopped: n1 did not come back: the restart command failed: it exited with 3/);
    expect(r.err).toMatch(/n1: restarting: echo restarting n1; exit 3\nrestarting n1/);
    expect(service.state.upgrade).toMatchObject({ state: 'failed', failed: { id: 'n1' }, done: [] });
    expect(service.state.nodes['n1']?.status).toBe('unknown');
    expect(service.proposed.filter((c) => c.type === 'upgradeStep').map((c) => (c.type === 'upgradeStep' ? c.phase : ''))).toEqual(['restart', 'fail']);
  });

  it('refuses a second upgrade while one runs (exit 1, 409); --resume of another version is refused', async () => {
    const { service, at } = await served();
    await service.propose({ type: 'startUpgrade', atMs: 0, reason: 't', to: '0.1.9', restartTimeoutMs: 60_000, nodes: ['n1'], coordinators: [] });
    const again = await torua('upgrade', '--to', '0.1.9', '--restart', 'true {id}', ...at);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/an upgrade to 0\.1\.9 is running/);
    const other = await torua('upgrade', '--to', '0.1.8', '--restart', 'true {id}', '--resume', ...at);
    expect(other.code).toBe(1);
    expect(other.err).toMatch(/--resume: the running upgrade is to 0\.1\.9, not 0\.1\.8/);
  });
});
