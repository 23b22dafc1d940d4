// `torua node maintenance` and `torua node evacuate` against a coordinator API server (the routing table applied for real;
// the placement driver's moves are played by the test), and the progress helpers on their own.
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import { parseDurationFlag, pollUntil } from '../../src/cli/wait-progress.js';
import type { Command } from '../../src/coordinator/routing/index.js';
import { FakeCoordinatorService, registerCommand } from '../api/fake-service.js';
import { startServer } from '../api/helpers.js';
import { torua } from '../support/run-cli.js';

/** The command running, with what it printed so far: the test plays the driver's moves once the output shows the state before them. */
function started(...argv: string[]) {
  let out = '';
  let err = '';
  const done = run(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  const seen = async (pattern: RegExp) => {
    const deadline = Date.now() + 10_000;
    // Progress goes to stderr, so that stdout stays the command's answer (one JSON document with --json).
    while (!pattern.test(out + err)) {
      if (Date.now() > deadline) throw new Error(`no ${pattern} in ${JSON.stringify(out)} / ${JSON.stringify(err)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { seen, result: async () => ({ code: await done, out, err }) };
}

async function served(nodes = ['n1', 'n2', 'n3']) {
  const service = new FakeCoordinatorService({ shards: 2 });
  for (const id of nodes) await service.propose(registerCommand(id));
  await service.propose({ type: 'assignShard', atMs: 0, reason: 't', shardId: 0, expectedEpoch: 0, primary: 'n1', replicas: ['n2'] });
  await service.propose({ type: 'assignShard', atMs: 0, reason: 't', shardId: 1, expectedEpoch: 0, primary: 'n2', replicas: ['n1'] });
  const server = await startServer(service);
  return { service, at: ['--coordinators', server.address] };
}

const propose = async (service: FakeCoordinatorService, c: Command) => {
  const out = await service.propose(c);
  if (!out.ok) throw new Error(`${c.type}: ${out.message}`);
};

describe('progress helpers', () => {
  it('parses durations', () => {
    expect(parseDurationFlag('--ttl', '30m')).toBe(1_800_000);
    expect(parseDurationFlag('--ttl', '1500')).toBe(1_500);
    expect(parseDurationFlag('--ttl', '2x')).toMatch(/--ttl: expected a duration/);
    expect(parseDurationFlag('--ttl', '0s')).toMatch(/positive/);
  });

  it('pollUntil gives up when the progress key stops changing for stuckAfterMs', async () => {
    let now = 0;
    const opts = { intervalMs: 100, stuckAfterMs: 1_000, clock: { nowMs: () => now }, sleep: async (ms: number) => void (now += ms) };
    await expect(pollUntil(async () => ({ progressKey: 'same' }), opts, 'the thing')).rejects.toThrow('the thing: no progress for 1 s');
    let n = 0;
    expect(await pollUntil(async () => (++n >= 50 ? { result: n, progressKey: String(n) } : { progressKey: String(n) }), opts, 'x')).toBe(50);
  });
});

describe('torua node maintenance', () => {
  it('checks its arguments before connecting', async () => {
    for (const [argv, message] of [
      [['node', 'maintenance'], /on or off is required/],
      [['node', 'maintenance', 'up', 'n1'], /expected on or off/],
      [['node', 'maintenance', 'on'], /at least one node ID/],
      [['node', 'maintenance', 'on', 'n1', '--ttl', 'soon'], /--ttl: expected a duration/],
      [['node', 'maintenance', 'off', 'n1', '--ttl', '5m'], /--ttl is for `on`/],
      [['node', 'evacuate'], /a node ID is required/],
      [['node', 'evacuate', 'n1', 'n2'], /one node at a time/],
      [['node', 'evacuate', 'n1', '--cancel', '--wait'], /--wait is not for --cancel/],
    ] as const) {
      const r = await torua(...argv, '--coordinators', '127.0.0.1:1');
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
    }
  });

  it('on with a TTL and a reason, then off; an unknown node fails with the cluster’s message and changes nothing', async () => {
    const { service, at } = await served(['n1', 'n2', 'n3', 'n4']);
    const on = await torua('node', 'maintenance', 'on', 'n3', 'n4', '--ttl', '30m', '--reason', 'patching', ...at);
    expect(on.code, on.err).toBe(0);
    expect(on.out).toMatch(/n3: maintenance until \d{4}-.*, 0 copies to move\nn4: maintenance until/);
    expect(service.state.nodes.n3?.maintenance).toMatchObject({ reason: 'patching' });
    const unknown = await torua('node', 'maintenance', 'on', 'n1', 'n9', ...at);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/torua node maintenance: .*no node n9.*NOT_FOUND/);
    expect(service.state.nodes.n1?.status).toBe('unknown');
    const off = await torua('node', 'maintenance', 'off', 'n3', 'n4', ...at);
    expect(off.code, off.err).toBe(0);
    expect(service.state.nodes.n3?.status).toBe('unknown');
  });

  it('on --wait returns once the nodes hold no copy', async () => {
    const { service, at } = await served(['n1', 'n2', 'n3']);
    const waiting = started('node', 'maintenance', 'on', 'n1', '--wait', ...at);
    // What the placement driver would do: hand over shard 0, then drop n1's copies.
    await waiting.seen(/0\/2 \(0%\) copies moved/);
    await propose(service, { type: 'moveShard', atMs: 0, reason: 't', shardId: 0, expectedEpoch: 1, primary: 'n2', replicas: ['n3'] });
    await propose(service, { type: 'moveShard', atMs: 0, reason: 't', shardId: 1, expectedEpoch: 1, primary: 'n2', replicas: [] });
    const r = await waiting.result();
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^maintenance: 0\/2 \(0%\) copies moved \(left: n1 2\), /m);
    expect(r.err).toMatch(/^maintenance: 2\/2 \(100%\) copies moved, /m);
    expect(r.out).toBe('done: n1 hold no copy\n');
  });
});

describe('torua node evacuate', () => {
  it('--wait prints the progress and exits 0 when done', async () => {
    const { service, at } = await served(['n1', 'n2', 'n3']);
    const waiting = started('node', 'evacuate', 'n1', '--wait', '--reason', 'disk', ...at);
    await waiting.seen(/0\/2 \(0%\) copies moved/);
    await propose(service, { type: 'moveShard', atMs: 0, reason: 't', shardId: 0, expectedEpoch: 1, primary: 'n2', replicas: ['n3'] });
    await waiting.seen(/1\/2 \(50%\) copies moved/);
    await propose(service, { type: 'moveShard', atMs: 0, reason: 't', shardId: 1, expectedEpoch: 1, primary: 'n2', replicas: ['n3'] });
    await propose(service, { type: 'finishEvacuation', atMs: 0, reason: 't', nodeId: 'n1' });
    const r = await waiting.result();
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^n1: evacuating, 2 copies to move\nevacuate n1: 0\/2 \(0%\) copies moved, 2 left, [\d.]+ s\nevacuate n1: 1\/2 \(50%\) copies moved, 1 left, eta \S+, [\d.]+ s\n/);
    expect(r.out).toBe('done: n1 evacuated (2 copies moved) and in maintenance\n');
    expect(service.state.nodes.n1?.status).toBe('maintenance');
  });

  it('--wait exits 1 with the reason when the evacuation is stalled; --cancel stops it', async () => {
    const { service, at } = await served(['n1', 'n2', 'n3']);
    const waiting = started('node', 'evacuate', 'n2', '--wait', ...at);
    await waiting.seen(/0\/2 \(0%\) copies moved/);
    const startedAtMs = service.state.nodes.n2?.evacuation?.startedAtMs ?? 0;
    await propose(service, { type: 'setEvacuationStall', atMs: 0, reason: 't', nodeId: 'n2', startedAtMs, stalledReason: 'shard 1: no room' });
    const r = await waiting.result();
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/the evacuation of n2 is stalled: shard 1: no room/);
    const cancel = await torua('node', 'evacuate', 'n2', '--cancel', ...at);
    expect(cancel.code, cancel.err).toBe(0);
    expect(cancel.out).toMatch(/n2: evacuation cancelled \(0 copies moved stay moved, 2 still on n2\)/);
    expect(service.state.nodes.n2?.status).toBe('unknown');
  });
});
