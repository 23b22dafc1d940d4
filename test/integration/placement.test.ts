/**
 * Placement with real processes: the dry run for `fail n2` lists exactly the
 * moves the leader then makes when n2 is really killed (and explain names the
 * delayed replacement meanwhile); a whole zone lost at RF 2 with two zones
 * loses no acknowledged write.
 */
import { describe, expect, test } from 'vitest';
import { createKvClient, type KvClient } from '../../src/client/index.js';
import { shardForKey } from '../../src/common/key-hash.js';
import { useClusters, waitFor, type Cluster } from '../support/cluster-harness.js';

const clusters = useClusters();

interface ShardView {
  id: number;
  primary: string | null;
  replicas: string[];
  in_sync: string[];
}
interface NodeView {
  id: string;
  status: string;
  shard_count: number;
  load: { reads_per_s: number; writes_per_s: number } | null;
}
interface EventView {
  seq: number;
  kind: string;
  shard: number | null;
  node: string | null;
  reason: string;
  message: string;
}
interface PlanView {
  moves: { shard: number | null; command: string; node: string | null; reason: string }[];
  result: { nodes: Record<string, { copies: number; primaries: number }>; under_replicated: number[] };
  notes: string[];
}

const via = (h: Cluster) => h.running(h.voters)[0]!;

async function getJson<T>(h: Cluster, path: string): Promise<T> {
  const a = await h.get(via(h), path, 5_000);
  if (a.status !== 200) throw new Error(`GET ${path}: ${a.status} ${JSON.stringify(a.body)}`);
  return a.body as T;
}
const shards = async (h: Cluster) => (await getJson<{ shards: ShardView[] }>(h, '/shards')).shards;
const nodes = async (h: Cluster) => (await getJson<{ nodes: NodeView[] }>(h, '/nodes')).nodes;
const events = async (h: Cluster, since: number) => (await getJson<{ events: EventView[] }>(h, `/events?since=${since}`)).events;
const copiesOf = (s: ShardView) => [...(s.primary === null ? [] : [s.primary]), ...s.replicas];

/** Every shard with `copies` copies all in sync, none on `away`; a description of the first that is not, else ''. */
function notPlaced(list: readonly ShardView[], copies: number, away: readonly string[] = []): string {
  for (const s of list) {
    const all = copiesOf(s);
    if (all.length !== copies || s.in_sync.length !== copies || all.some((id) => away.includes(id))) return `shard ${s.id}: ${JSON.stringify(s)}`;
  }
  return '';
}

async function waitPlaced(h: Cluster, copies: number, away: readonly string[] = [], timeoutMs = 60_000): Promise<void> {
  let last = '';
  await waitFor(
    `every shard with ${copies} in-sync copies${away.length > 0 ? `, none on ${away.join(', ')}` : ''}`,
    async () => {
      const sick = (await nodes(h)).filter((n) => !away.includes(n.id) && n.status !== 'healthy');
      last = notPlaced(await shards(h), copies, away) || sick.map((n) => `${n.id} ${n.status}`).join(', ');
      return last === '' ? true : undefined;
    },
    { timeoutMs, intervalMs: 100, describe: () => last },
  );
}

async function started(h: Cluster): Promise<Cluster> {
  await h.startVoters();
  await h.waitForLeader({ all: true });
  await Promise.all(h.nodes.map((n) => h.start(n.id)));
  await waitPlaced(h, 2);
  return h;
}

/** The placement driver's moves among the events: what the plan lists (recoveries catching up are the primaries' own). */
const PLANNED_KINDS = new Set(['shard-promoted', 'shard-moved', 'shard-assigned']);
const isPlannedMove = (e: EventView) => PLANNED_KINDS.has(e.kind) || (e.kind === 'shard-out-of-sync' && e.reason.startsWith('failover:'));

describe('placement (real processes)', () => {
  test('the dry run for `fail n2` equals what the leader does when n2 is then killed; explain names the delayed replacement', async () => {
    const h = await started(
      await clusters.create({
        name: 'plan',
        nodes: 4,
        shards: 8,
        replicationFactor: 2,
        // Recovery slots for every copy at once, so each round's choices do not hang on which recovery ends first.
        settings: { recovery: { replaceDelayMs: 3_000, maxConcurrentPerNode: 8, maxConcurrentPerCluster: 16 } },
      }),
    );
    const kv = createKvClient({ coordinators: h.running(h.voters).map((id) => `${h.member(id).host}:${h.member(id).apiPort}`) });
    try {
      for (let i = 0; i < 100; i++) await kv.put(`p-${i}`, `v-${i}`);
      const since = (await events(h, 0)).at(-1)?.seq ?? 0;
      const answer = await h.post(via(h), '/cluster/plan', { fail: ['n2'] }, 10_000);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      const plan = answer.body as PlanView;
      expect(plan.notes).toEqual([]);
      expect(plan.moves.length).toBeGreaterThan(0);
      expect(plan.result.nodes['n2']).toEqual({ copies: 0, primaries: 0 });
      expect(plan.result.under_replicated).toEqual([]);
      // Changing nothing: the table is as it was.
      expect((await events(h, since)).filter(isPlannedMove)).toEqual([]);

      await h.kill('n2');
      // While the replacement waits, explain says so for a shard n2 held, with the time left.
      const held = (await shards(h)).find((s) => copiesOf(s).includes('n2'))!;
      const explained = await waitFor(
        'n2 declared failed and shard explained with its replacement delay',
        async () => {
          const e = await getJson<{ blocked_by: { rule: string; message: string }[]; nodes: { node: string; reasons: { rule: string; message: string }[] }[] }>(
            h,
            `/shards/${held.id}/explain`,
          );
          return e.blocked_by.some((b) => b.rule === 'replace-delay') ? e : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 50 },
      );
      expect(explained.blocked_by.find((b) => b.rule === 'replace-delay')?.message).toMatch(/^n2 failed \d+\.\d s ago; its copy is replaced in \d+\.\d s/);
      expect(explained.nodes.find((n) => n.node === 'n2')?.reasons).toContainEqual({ rule: 'status', message: 'n2 is unhealthy: it takes no new copies' });

      await waitPlaced(h, 2, ['n2']);
      // Trims follow recoveries as they finish: wait until the moves made add up to the plan's count.
      const made = await waitFor(
        `${plan.moves.length} placement moves made`,
        async () => {
          const list = (await events(h, since)).filter(isPlannedMove);
          return list.length >= plan.moves.length ? list : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 100 },
      );
      const reasons = (list: readonly { reason: string }[]) => list.map((m) => m.reason).sort();
      expect(reasons(made)).toEqual(reasons(plan.moves));
      // Promotions first, for real as in the plan.
      const promoted = (list: readonly string[]) => list.slice(0, list.filter((k) => k === 'promote').length);
      expect(promoted(made.map((e) => (e.kind === 'shard-promoted' ? 'promote' : 'other')))).toEqual(promoted(plan.moves.map((m) => (m.command === 'promotePrimary' ? 'promote' : 'other'))));
      const list = await shards(h);
      const counts: Record<string, { copies: number; primaries: number }> = {};
      for (const n of ['n1', 'n2', 'n3', 'n4']) counts[n] = { copies: list.filter((s) => copiesOf(s).includes(n)).length, primaries: list.filter((s) => s.primary === n).length };
      expect(counts).toEqual(plan.result.nodes);
      for (let i = 0; i < 100; i++) expect(await kv.getText(`p-${i}`)).toBe(`v-${i}`);
    } finally {
      kv.close();
    }
  });

  test('RF 2 over two zones: copies span both, and losing a whole zone loses no acknowledged write', async () => {
    const h = await started(
      await clusters.create({ name: 'zones', nodes: 4, shards: 8, replicationFactor: 2, nodeLabels: (i) => ({ zone: i < 2 ? 'a' : 'b' }) }),
    );
    const kv = createKvClient({ coordinators: h.running(h.voters).map((id) => `${h.member(id).host}:${h.member(id).apiPort}`) });
    try {
      const zone = (id: string) => (id === 'n1' || id === 'n2' ? 'a' : 'b');
      for (const s of await shards(h)) expect(new Set(copiesOf(s).map(zone)).size, `shard ${s.id}: ${JSON.stringify(s)}`).toBe(2);
      for (let i = 0; i < 200; i++) await kv.put(`z-${i}`, `v-${i}`);
      await Promise.all([h.kill('n1'), h.kill('n2')]);
      await waitFor(
        'every primary in zone b',
        async () => ((await shards(h)).every((s) => s.primary !== null && zone(s.primary) === 'b') ? true : undefined),
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      const lost: string[] = [];
      for (let i = 0; i < 200; i++) if ((await kv.getText(`z-${i}`)) !== `v-${i}`) lost.push(`z-${i}`);
      expect(lost).toEqual([]);
    } finally {
      kv.close();
    }
  });

  test('a skewed load is spread: the leader hands the hot node’s primaries to cooler in-sync replicas, each move explained, the old primary kept in sync', async () => {
    const h = await started(
      await clusters.create({ name: 'hot', nodes: 4, shards: 8, replicationFactor: 2, settings: { placement: { hotWindowMs: 2_000 } } }),
    );
    const kv = createKvClient({ coordinators: h.running(h.voters).map((id) => `${h.member(id).host}:${h.member(id).apiPort}`) });
    const requests = (n: NodeView) => (n.load === null ? 0 : n.load.reads_per_s + n.load.writes_per_s);
    try {
      const before = await shards(h);
      const hot = 'n1';
      const hotShards = new Set(before.filter((s) => s.primary === hot).map((s) => s.id));
      expect(hotShards.size).toBeGreaterThan(0);
      const keys = Array.from({ length: 400 }, (_, i) => `h-${i}`);
      const hotKeys = keys.filter((k) => hotShards.has(shardForKey(k, 8)));
      const coldKeys = keys.filter((k) => !hotShards.has(shardForKey(k, 8)));
      for (const k of keys) await kv.put(k, 'x');
      const since = (await events(h, 0)).at(-1)?.seq ?? 0;
      // 80% of the requests on the hot node's shards, bounded in count and time.
      const until = Date.now() + 60_000;
      let stop = false;
      const load = async (worker: KvClient, w: number) => {
        for (let i = 0; !stop && i < 200_000 && Date.now() < until; i++) {
          const list = i % 5 === 4 ? coldKeys : hotKeys;
          await worker.getText(list[(i * 7 + w) % list.length]!);
        }
      };
      const workers = Array.from({ length: 4 }, (_, w) => load(kv, w));
      let lastLoads: unknown = null;
      const moves = await waitFor(
        'the leader moving load off n1',
        async () => {
          lastLoads = (await nodes(h)).map((n) => [n.id, n.load]);
          const list = (await events(h, since)).filter((e) => e.kind === 'shard-promoted' && e.reason.startsWith(`load: ${hot} at `));
          return list.length > 0 ? list : undefined;
        },
        {
          timeoutMs: 45_000,
          intervalMs: 200,
          describe: () => `node loads: ${JSON.stringify(lastLoads)}`,
        },
      );
      expect(moves[0]?.reason).toMatch(/^load: n1 at \d+(\.\d)?× mean .*takes it over$/);
      // A planned handoff: n1 answered caught up, so it stays an in-sync replica and nothing is copied back to it.
      expect(moves[0]?.message).toMatch(/primary n1 → n\d, n1 stays in sync/);
      const after = await shards(h);
      expect(after.filter((s) => s.primary === hot).length).toBeLessThan(hotShards.size);
      // The leader's /nodes shows the load the nodes report (followers answer null: the reports are leader-local).
      const leader = (await h.waitForLeader()).id;
      const onLeader = (await h.get(leader, '/nodes', 5_000)).body as { nodes: NodeView[] };
      expect(requests(onLeader.nodes.find((n) => n.id === hot)!)).toBeGreaterThan(0);
      stop = true;
      await Promise.all(workers);
      for (const k of keys) expect(await kv.getText(k)).toBe('x');
    } finally {
      kv.close();
    }
  });
});
