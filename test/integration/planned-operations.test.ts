/**
 * Planned operations with real processes: maintenance of a node under a
 * smart-client writer (its copies move, no write fails beyond the client's
 * retries, nothing acknowledged is lost, and the node is never declared
 * failed while in maintenance, even when it is stopped), an evacuation
 * followed with `torua node evacuate --wait` to done, and a leader SIGKILL
 * in the middle of each: the new leader completes them, and a maintenance
 * TTL set under the old leader still ends.
 */
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import { createKvClient, type KvClient } from '../../src/client/index.js';
import { MAIN_JS, sleep, useClusters, waitFor, type Cluster } from '../support/cluster-harness.js';
import { SmartWriter } from '../support/smart-writer.js';

const clusters = useClusters();
const SHARDS = 8;

interface ShardView {
  id: number;
  primary: string | null;
  replicas: string[];
  in_sync: string[];
}
interface EvacuationView {
  state: string;
  bytes_copied: number;
  total: number;
  moved: number;
  remaining: number;
  eta_ms: number | null;
  stalled_reason: string | null;
}
interface NodeView {
  id: string;
  status: string;
  shard_count: number;
  maintenance: { reason: string; since_ms: number; until_ms: number | null } | null;
  evacuation: EvacuationView | null;
}
interface EventView {
  term: number;
  kind: string;
  node: string | null;
  message: string;
}

function addresses(h: Cluster): string[] {
  return h.running(h.voters).map((id) => `${h.member(id).host}:${h.member(id).apiPort}`);
}

async function getJson<T>(h: Cluster, path: string): Promise<T> {
  const via = h.running(h.voters)[0]!;
  const a = await h.get(via, path, 5_000);
  if (a.status !== 200) throw new Error(`GET ${path} on ${via}: ${a.status} ${JSON.stringify(a.body)}`);
  return a.body as T;
}
const shards = async (h: Cluster) => (await getJson<{ shards: ShardView[] }>(h, '/shards')).shards;
const node = async (h: Cluster, id: string) => getJson<NodeView>(h, `/nodes/${id}/info`);
const events = async (h: Cluster) => (await getJson<{ events: EventView[] }>(h, '/events?since=0')).events;

async function post(h: Cluster, path: string, body: unknown): Promise<any> {
  const via = h.running(h.voters)[0]!;
  const a = await h.post(via, path, body, 10_000);
  expect(a.status, `POST ${path}: ${JSON.stringify(a.body)}`).toBe(200);
  return a.body;
}

/** Every shard with `copies` in-sync copies, none on `away`; undefined while not so (with why in `last`). */
function placedWithout(list: readonly ShardView[], copies: number, away: readonly string[]): string | undefined {
  for (const s of list) {
    const all = [...(s.primary === null ? [] : [s.primary]), ...s.replicas];
    if (all.length !== copies || s.in_sync.length !== copies) return `shard ${s.id}: ${JSON.stringify(s)}`;
    const on = all.filter((id) => away.includes(id));
    if (on.length > 0) return `shard ${s.id} still on ${on.join(', ')}`;
  }
  return undefined;
}

async function startCluster(name: string): Promise<Cluster> {
  const h = await clusters.create({ name, nodes: 3, shards: SHARDS, replicationFactor: 2 });
  await h.startVoters();
  await h.waitForLeader({ all: true });
  await Promise.all(h.nodes.map((n) => h.start(n.id)));
  let last = '';
  await waitFor(
    'every shard placed with 2 copies in sync and every node healthy',
    async () => {
      const sick = (await getJson<{ nodes: NodeView[] }>(h, '/nodes')).nodes.filter((n) => n.status !== 'healthy');
      last = placedWithout(await shards(h), 2, []) ?? sick.map((n) => `${n.id} ${n.status}`).join(', ');
      return last === '' ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100, describe: () => last },
  );
  return h;
}

async function expectReadable(kv: KvClient, pairs: ReadonlyMap<string, string>): Promise<void> {
  const wrong: string[] = [];
  for (const [key, value] of pairs) {
    const got = await kv.getText(key);
    if (got !== value) wrong.push(`${key}: ${JSON.stringify(got)}`);
  }
  expect(wrong.slice(0, 10), `${wrong.length} of ${pairs.size} acknowledged keys lost`).toEqual([]);
}

async function waitEmpty(h: Cluster, id: string, timeoutMs = 60_000): Promise<void> {
  let last = '';
  await waitFor(
    `${id} to hold no copy, every shard whole on the others`,
    async () => {
      last = placedWithout(await shards(h), 2, [id]) ?? '';
      return last === '' ? true : undefined;
    },
    { timeoutMs, intervalMs: 100, describe: () => last },
  );
}

describe('planned operations (real processes)', () => {
  test('maintenance under a smart-client writer: copies move, no write fails, nothing is lost, never declared failed; off: handled like any other node', async () => {
    const h = await startCluster('maint');
    const kv = createKvClient({ coordinators: addresses(h) });
    const writer = new SmartWriter(kv).start();
    try {
      await writer.waitForAcks(50);
      const answer = await post(h, '/nodes/maintenance', { nodes: ['n1'], enabled: true, reason: 'kernel upgrade' });
      expect(answer.nodes[0]).toMatchObject({ id: 'n1', status: 'maintenance', maintenance: { reason: 'kernel upgrade', until_ms: null } });
      await waitEmpty(h, 'n1');
      await writer.waitForAcks(50);
      await writer.stop();
      expect(writer.failures, 'writes that failed beyond the client’s retries').toEqual([]);
      await expectReadable(kv, writer.acked);
      // Refused with 409 and nothing changed: n2 and n3 cannot both go (one node left for 2 copies).
      const refused = await h.post(h.running(h.voters)[0]!, '/nodes/maintenance', { nodes: ['n2', 'n3'], enabled: true }, 10_000);
      expect(refused.status).toBe(409);
      expect(JSON.stringify(refused.body)).toMatch(/at least 2 nodes/);
      expect((await node(h, 'n2')).status).toBe('healthy');

      // Stopped while in maintenance (an operator's restart): never declared failed, and no storm follows.
      h.pause('n1');
      const pausedAt = performance.now();
      while (performance.now() - pausedAt < 4_000) {
        expect((await node(h, 'n1')).status).toBe('maintenance');
        await sleep(200);
      }
      // Off while it is down: an ordinary member again, so it is declared failed like any other.
      const off = await post(h, '/nodes/maintenance', { nodes: ['n1'], enabled: false });
      expect(off.nodes[0]).toMatchObject({ status: 'unknown', maintenance: null });
      await waitFor('n1 declared unhealthy once out of maintenance', async () => ((await node(h, 'n1')).status === 'unhealthy' ? true : undefined), { timeoutMs: 20_000 });
      h.resume('n1');
      await waitFor('n1 healthy again after SIGCONT', async () => ((await node(h, 'n1')).status === 'healthy' ? true : undefined), { timeoutMs: 20_000 });
    } finally {
      await writer.stop();
      kv.close();
    }
  });

  test('evacuation with progress to done, followed by `torua node evacuate --wait`', async () => {
    const h = await startCluster('evac');
    const kv = createKvClient({ coordinators: addresses(h) });
    try {
      for (let i = 0; i < 300; i++) await kv.put(`e-${i}`, `value-${i}`);
      const held = (await node(h, 'n2')).shard_count;
      expect(held).toBeGreaterThan(0);
      const cli = execa(process.execPath, [MAIN_JS, 'node', 'evacuate', 'n2', '--wait', '--reason', 'disk errors', '--coordinators', addresses(h).join(',')], {
        reject: false,
        all: true,
        timeout: 90_000,
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      // The progress, as any replica shows it, never claims more than the shards say.
      const seen: string[] = [];
      let done = false;
      const watch = (async () => {
        while (!done) {
          const [n, list] = await Promise.all([node(h, 'n2').catch(() => undefined), shards(h).catch(() => undefined)]);
          if (n?.evacuation && list) {
            const onNode = list.filter((s) => s.primary === 'n2' || s.replicas.includes('n2')).length;
            seen.push(`${n.status} ${n.evacuation.state} ${n.evacuation.moved}/${n.evacuation.total} remaining ${n.evacuation.remaining} (shards say ${onNode})`);
            if (n.evacuation.state === 'done') expect(onNode, seen.at(-1)).toBe(0);
          }
          await sleep(100);
        }
      })();
      const result = await cli;
      done = true;
      await watch;
      expect(result.exitCode, result.all).toBe(0);
      expect(result.all).toMatch(new RegExp(`n2: evacuating, ${held} copies to move`));
      expect(result.all).toMatch(new RegExp(`done: n2 evacuated \\(${held} copies moved\\) and in maintenance`));
      const after = await node(h, 'n2');
      expect(after).toMatchObject({ status: 'maintenance', shard_count: 0, evacuation: { state: 'done', total: held, moved: held, remaining: 0, eta_ms: 0, stalled_reason: null } });
      expect(after.maintenance?.reason).toBe('evacuated: disk errors');
      // 300 keys of about 13 bytes over 8 shards, of which n2 held some: their copies were rebuilt elsewhere.
      expect(after.evacuation?.bytes_copied).toBeGreaterThan(0);
      expect(placedWithout(await shards(h), 2, ['n2'])).toBeUndefined();
      for (let i = 0; i < 300; i++) expect(await kv.getText(`e-${i}`)).toBe(`value-${i}`);
    } finally {
      kv.close();
    }
  });

  test('a leader SIGKILL in the middle of a maintenance and of an evacuation: the new leader completes both, and the TTL still ends', async () => {
    const h = await startCluster('evac-kill');
    const kv = createKvClient({ coordinators: addresses(h) });
    try {
      for (let i = 0; i < 300; i++) await kv.put(`k-${i}`, `v-${i}`);
      // Maintenance with a TTL, the leader killed as soon as it is committed.
      const first = await h.waitForLeader();
      await post(h, '/nodes/maintenance', { nodes: ['n1'], enabled: true, ttlMs: 15_000 });
      await h.kill(first.id);
      const second = await h.waitForLeader({ exclude: [first.id] });
      await waitEmpty(h, 'n1');
      // The kill came in the middle: the new leader moved some of n1's copies itself.
      const moves = (await events(h)).filter((e) => e.term >= second.term && e.kind.startsWith('shard-') && e.message.includes('n1'));
      expect(moves.length, 'shard changes of n1 under the new leader').toBeGreaterThan(0);
      // The TTL, replicated, is ended by the new leader: n1 back to being probed, then healthy.
      await waitFor('n1 out of maintenance when its TTL ran out', async () => ((await node(h, 'n1')).status === 'healthy' ? true : undefined), { timeoutMs: 40_000 });
      const ended = (await events(h)).find((e) => e.node === 'n1' && /TTL ran out/.test(e.message));
      expect(ended?.term, JSON.stringify(ended)).toBeGreaterThanOrEqual(second.term);
      await h.start(first.id);
      await h.waitForLeader({ all: true });

      // An evacuation, the leader killed as soon as it is committed.
      const leader = await h.waitForLeader({ all: true });
      await post(h, '/nodes/n3/evacuate', { reason: 'urgent' });
      await h.kill(leader.id);
      const next = await h.waitForLeader({ exclude: [leader.id] });
      let last = '';
      await waitFor(
        'the evacuation of n3 done under the new leader',
        async () => {
          const n = await node(h, 'n3');
          last = JSON.stringify(n.evacuation);
          return n.status === 'maintenance' && n.evacuation?.state === 'done' ? n : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100, describe: () => last },
      );
      const finished = (await events(h)).find((e) => e.node === 'n3' && /evacuating → maintenance/.test(e.message));
      expect(finished?.term, JSON.stringify(finished)).toBeGreaterThanOrEqual(next.term);
      // n1 (out of maintenance) and n2 hold every shard now, each whole.
      expect(placedWithout(await shards(h), 2, ['n3'])).toBeUndefined();
      for (let i = 0; i < 300; i++) expect(await kv.getText(`k-${i}`)).toBe(`v-${i}`);
    } finally {
      kv.close();
    }
  });
});
