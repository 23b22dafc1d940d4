/**
 * A rolling upgrade with real processes: a second copy of the build whose
 * package.json says another version (dist copied, node_modules linked), a
 * restart command that stops a process and starts it from that copy, and
 * `torua upgrade` run as the operator would, under a smart-client writer.
 * The leader is SIGKILLed in the middle: the upgrade completes under the
 * new one. Every node and coordinator ends on the new version, every copy
 * caught up from its own data (no full copy), no write failed beyond the
 * client's retries and nothing acknowledged is lost. Then an upgrade whose
 * restart does not bring a node back stops there, exit 1, the cluster serving.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, test } from 'vitest';
import { createKvClient } from '../../src/client/index.js';
import { MAIN_JS, REPO_ROOT, useClusters, waitFor, type Cluster } from '../support/cluster-harness.js';
import { startPlacedCluster } from '../support/placed-cluster.js';
import { SmartWriter } from '../support/smart-writer.js';
import { copyOfBuild, nextPatch, restartServer } from '../support/upgrade-kit.js';

const clusters = useClusters();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

interface NodeView {
  id: string;
  status: string;
  version: string;
}

async function json<T>(h: Cluster, urlPath: string): Promise<T> {
  const via = h.running(h.voters)[0]!;
  const a = await h.get(via, urlPath, 5_000);
  if (a.status !== 200) throw new Error(`GET ${urlPath} on ${via}: ${a.status} ${JSON.stringify(a.body)}`);
  return a.body as T;
}

describe('rolling upgrade (real processes)', () => {
  test('torua upgrade: nodes one at a time, then the coordinators (the leader last), under a writer and a leader SIGKILL; then one that does not come back', async () => {
    const h = await startPlacedCluster(clusters.create, { name: 'upgrade', nodes: 3, shards: 8, replicationFactor: 2 });
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const to = nextPatch(pkg.version);
    const nextMain = await copyOfBuild(await fsp.mkdtemp(path.join(h.dir, 'next-')), to);
    const { command, restarted, close } = await restartServer(h, () => nextMain);
    cleanups.push(close);
    const coordinators = h.voters.map((id) => `${h.member(id).host}:${h.member(id).apiPort}`).join(',');
    const kv = createKvClient({ coordinators: coordinators.split(',') });
    cleanups.push(async () => kv.close());
    // Every shard holds data before the upgrade: a copy then catches up from its own (a full copy would show).
    for (let i = 0; i < 200; i++) await kv.put(`pre-${i}`, `v${i}`);
    const writer = new SmartWriter(kv).start(20_000, 80_000, 'u');
    try {
      await writer.waitForAcks(30);
      const before = await json<{ term: number; leader: string }>(h, '/cluster/info');
      const lastSeq = Math.max(0, ...(await json<{ events: { seq: number }[] }>(h, '/events?since=0')).events.map((e) => e.seq));
      expect((await json<{ nodes: NodeView[] }>(h, '/nodes')).nodes.map((n) => n.version)).toEqual([pkg.version, pkg.version, pkg.version]);

      // Bad input is refused before anything starts.
      const usage = await execa(process.execPath, [MAIN_JS, 'upgrade', '--to', to, '--restart', 'echo no-placeholder', '--coordinators', coordinators], { reject: false });
      expect(usage.exitCode).toBe(2);
      expect(usage.stderr).toMatch(/--restart: the command must contain \{id\}/);

      const cli = execa(process.execPath, [MAIN_JS, 'upgrade', '--to', to, '--restart', command, '--timeout', '45s', '--coordinators', coordinators], {
        reject: false,
        all: true,
        timeout: 100_000,
      });
      // Progress shows in /cluster/info while it runs; a second upgrade meanwhile is 409 and changes nothing.
      const running = await waitFor(
        'the upgrade to record its first node done',
        async () => {
          const info = await json<{ upgrade: { state: string; done: string[]; current: string | null } | null }>(h, '/cluster/info?stale=true');
          return info.upgrade !== null && info.upgrade.done.length >= 1 ? info.upgrade : undefined;
        },
        { timeoutMs: 45_000, intervalMs: 100 },
      );
      expect(running).toMatchObject({ state: 'running', done: ['n1'] });
      const again = await h.post(h.running(h.voters)[0]!, '/cluster/upgrade', { to }, 5_000);
      expect(again.status).toBe(409);
      expect(JSON.stringify(again.body)).toMatch(/is running/);

      // The leader dies in the middle; it comes back on the old version (the upgrade restarts it later, last).
      const leader = (await h.waitForLeader()).id;
      await h.kill(leader, 'SIGKILL');
      await h.waitForLeader({ exclude: [leader] });
      await h.start(leader);

      const result = await cli;
      expect(result.exitCode, result.all).toBe(0);
      expect(result.all).toMatch(new RegExp(`upgrade to ${to.replaceAll('.', '\\.')}: \\d/6`));
      expect(result.stdout).toMatch(/upgrade to .* done: n1, n2, n3, c\d, c\d, c\d/);
      // One at a time, nodes first, the last leader last.
      expect(restarted.slice(0, 3)).toEqual(['n1', 'n2', 'n3']);
      expect(restarted).toHaveLength(6);

      await writer.waitForAcks(30);
      await writer.stop();
      expect(writer.failures, 'writes that failed beyond the client’s retries').toEqual([]);

      const after = await json<{ term: number; leader: string; upgrade: { state: string; done: string[]; failed: unknown } }>(h, '/cluster/info');
      expect(after.upgrade).toMatchObject({ state: 'done', failed: null });
      expect(after.upgrade.done).toHaveLength(6);
      expect(after.term).toBeGreaterThan(before.term);
      expect(result.all).toMatch(/handing leadership to c\d/);
      const nodes = (await json<{ nodes: NodeView[] }>(h, '/nodes')).nodes;
      expect(nodes.map((n) => [n.id, n.status, n.version])).toEqual([['n1', 'healthy', to], ['n2', 'healthy', to], ['n3', 'healthy', to]]);
      for (const id of h.voters) {
        const own = await h.get(id, '/cluster/info?stale=true', 5_000);
        expect(own.body.coordinator_version, id).toBe(to);
      }
      // Every copy that left the in-sync set came back by catching up from its own data, never by a full copy.
      const events = (await json<{ events: { seq: number; kind: string; reason: string }[] }>(h, `/events?since=${lastSeq}`)).events;
      expect(events[0]?.seq, 'the event ring kept every event since the upgrade began').toBe(lastSeq + 1);
      const rejoined = events.filter((e) => e.kind === 'shard-in-sync' && /caught up from|recovered from/.test(e.reason));
      expect(rejoined.filter((e) => /caught up from/.test(e.reason)).length).toBeGreaterThan(0);
      expect(rejoined.filter((e) => /recovered from/.test(e.reason)).map((e) => e.reason)).toEqual([]);

      const wrong: string[] = [];
      for (const [key, value] of writer.acked) if ((await kv.getText(key)) !== value) wrong.push(key);
      expect(wrong.slice(0, 10), `${wrong.length} of ${writer.acked.size} acknowledged keys lost`).toEqual([]);

      // An upgrade whose restart does not bring n1 back stops at n1, exit 1; the cluster keeps serving.
      const { command: failing, close: closeFailing } = await restartServer(h, () => null);
      cleanups.push(closeFailing);
      const stop = await execa(process.execPath, [MAIN_JS, 'upgrade', '--to', nextPatch(to), '--restart', failing, '--timeout', '20s', '--coordinators', coordinators], {
        reject: false,
        timeout: 60_000,
      });
      expect(stop.exitCode, stop.stderr).toBe(1);
      expect(stop.stdout).toMatch(/stopped: n1 did not come back: the restart command failed: it exited with 1; the others keep their version and the cluster keeps serving/);
      expect(stop.stderr).toMatch(/n1 was stopped and is not started again/);
      const failed = await json<{ upgrade: { state: string; failed: { id: string } | null; done: string[] } }>(h, '/cluster/info');
      expect(failed.upgrade).toMatchObject({ state: 'failed', failed: { id: 'n1' }, done: [] });
      expect((await json<NodeView>(h, '/nodes/n2/info')).version).toBe(to);
      await kv.put('after-failed-upgrade', 'still serving');
      expect(await kv.getText('after-failed-upgrade')).toBe('still serving');
      await h.start('n1', { main: nextMain });
    } finally {
      await writer.stop();
    }
  }, 150_000);
});
