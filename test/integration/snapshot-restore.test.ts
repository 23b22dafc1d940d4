/**
 * Disaster recovery of the coordinators with real processes: a snapshot is
 * saved, then the shards move (an evacuation) and more is written, then every
 * coordinator is lost. The new quorum is seeded from the OLD snapshot into
 * fresh data directories: the leader grants no lease until the data nodes
 * have reported what they hold, takes the newer placement from them, and
 * every acknowledged write is readable, with no copy deleted on the way.
 * Also: a restore into a data directory in use is refused and changes
 * nothing; an edited file (hash mismatch) is refused.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { createKvClient } from '../../src/client/index.js';
import { useClusters, waitFor, type Cluster } from '../support/cluster-harness.js';
import { torua } from '../support/run-cli.js';

const clusters = useClusters();

interface ShardView {
  id: number;
  epoch: number;
  primary: string | null;
  replicas: string[];
  in_sync: string[];
}

const apiOf = (h: Cluster, id: string) => `${h.member(id).host}:${h.member(id).apiPort}`;

async function getJson<T>(h: Cluster, urlPath: string): Promise<T> {
  const via = h.running(h.voters)[0]!;
  const a = await h.get(via, urlPath, 5_000);
  if (a.status !== 200) throw new Error(`GET ${urlPath} on ${via}: ${a.status} ${JSON.stringify(a.body)}`);
  return a.body as T;
}
const shards = async (h: Cluster) => (await getJson<{ shards: ShardView[] }>(h, '/shards')).shards;

/** undefined while some shard lacks `copies` in-sync copies or has one on `away`. */
function whole(list: readonly ShardView[], copies: number, away: readonly string[] = []): string | undefined {
  for (const s of list) {
    const all = [...(s.primary === null ? [] : [s.primary]), ...s.replicas];
    if (all.length !== copies || s.in_sync.length !== copies) return `shard ${s.id}: ${JSON.stringify(s)}`;
    if (all.some((id) => away.includes(id))) return `shard ${s.id} still on ${away.join(',')}`;
  }
  return undefined;
}

async function waitWhole(h: Cluster, what: string, away: readonly string[] = [], timeoutMs = 40_000): Promise<ShardView[]> {
  let last = '';
  return waitFor(
    what,
    async () => {
      const list = await shards(h).catch((e: Error) => ((last = e.message), undefined));
      if (list === undefined) return undefined;
      last = whole(list, 2, away) ?? '';
      return last === '' ? list : undefined;
    },
    { timeoutMs, intervalMs: 100, describe: () => last },
  );
}

/** Names and sizes of every file under `dir`, to see that a refused restore wrote nothing. */
async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath, e.name);
    out.push(`${path.relative(dir, file)}:${(await fsp.stat(file)).size}`);
  }
  return out.sort();
}

describe('snapshot restore (real processes)', () => {
  test('all coordinators lost: restored from a snapshot older than the last shard moves, nothing acknowledged is lost and no copy is deleted', async () => {
    const h = await clusters.create({ name: 'restore', nodes: 3, shards: 8, replicationFactor: 2 });
    await h.startVoters();
    await h.waitForLeader({ all: true });
    await Promise.all(h.nodes.map((n) => h.start(n.id)));
    await waitWhole(h, 'every shard placed with 2 in-sync copies');
    const coordinators = h.voters.map((id) => apiOf(h, id));
    const kv = createKvClient({ coordinators });
    const acked = new Map<string, string>();
    try {
      for (let i = 0; i < 100; i++) {
        await kv.put(`before-${i}`, `v${i}`);
        acked.set(`before-${i}`, `v${i}`);
      }
      const file = path.join(h.dir, 'table.json');
      const saved = await torua('snapshot', 'save', file, '--coordinators', coordinators.join(','));
      expect(saved.code, saved.err).toBe(0);
      const old = JSON.parse(await fsp.readFile(file, 'utf8')) as { state: { shards: { id: number; epoch: number; primary: string | null; replicas: string[] }[] } };
      const onN1 = old.state.shards.filter((s) => s.primary === 'n1' || s.replicas.includes('n1')).map((s) => s.id);
      expect(onN1.length, 'n1 holds copies in the snapshot').toBeGreaterThan(0);

      // After the snapshot: n1 is emptied (its shards move to higher epochs) and more is written.
      const evac = await h.post(h.running(h.voters)[0]!, '/nodes/n1/evacuate', { reason: 'before the disaster' }, 10_000);
      expect(evac.status, JSON.stringify(evac.body)).toBe(200);
      await waitWhole(h, 'n1 evacuated', ['n1'], 60_000);
      for (let i = 0; i < 100; i++) {
        await kv.put(`after-${i}`, `w${i}`);
        acked.set(`after-${i}`, `w${i}`);
      }

      // Every coordinator is lost.
      for (const id of h.voters) await h.kill(id);
      const logMark = new Map(h.nodes.map((n) => [n.id, h.linesOf(n.id).length]));

      // Refused: a restore into data directories in use (nothing written), and an edited file.
      const before = await listing(h.dataDirOf('c1'));
      const busy = await torua('snapshot', 'restore', file, '--config', h.file);
      expect(busy.code).toBe(1);
      expect(busy.err).toMatch(/not empty/);
      expect(await listing(h.dataDirOf('c1'))).toEqual(before);
      const edited = JSON.parse(await fsp.readFile(file, 'utf8')) as { state: { shards: { epoch: number }[] } };
      edited.state.shards[0]!.epoch += 1;
      const editedFile = path.join(h.dir, 'edited.json');
      await fsp.writeFile(editedFile, JSON.stringify(edited));
      for (const id of h.voters) await h.wipe(id);
      const tampered = await torua('snapshot', 'restore', editedFile, '--config', h.file);
      expect(tampered.code).toBe(1);
      expect(tampered.err).toMatch(/hashes to .* corrupt or edited, refused/);
      await expect(fsp.readdir(h.dataDirOf('c1'))).rejects.toThrow(/ENOENT/);

      // The new quorum from the OLD snapshot.
      const restored = await torua('snapshot', 'restore', file, '--config', h.file);
      expect(restored.code, restored.err).toBe(0);
      await h.startVoters();
      await h.waitForLeader({ all: true });
      const after = await waitWhole(h, 'every shard whole again after the restore', ['n1']);
      for (const id of onN1) {
        const was = old.state.shards[id]!;
        expect(after[id]!.epoch, `shard ${id} taken from the nodes at a newer epoch`).toBeGreaterThan(was.epoch);
      }
      const kinds = (await getJson<{ events: { kind: string; message: string }[] }>(h, '/events?since=0')).events;
      expect(kinds.some((e) => e.kind === 'cluster-restored')).toBe(true);

      const wrong: string[] = [];
      for (const [key, value] of acked) {
        const got = await kv.getText(key);
        if (got !== value) wrong.push(`${key}: ${JSON.stringify(got)}`);
      }
      expect(wrong.slice(0, 10), `${wrong.length} of ${acked.size} acknowledged keys lost`).toEqual([]);
      for (const n of h.nodes) {
        const deleted = h.linesOf(n.id).slice(logMark.get(n.id)).filter((l) => l.includes('deleting it'));
        expect(deleted, `copies deleted on ${n.id} after the restore`).toEqual([]);
      }

      // The restored cluster takes a settings change that every running node applies and acknowledges.
      const set = await torua('config', 'set', 'replication.ackTimeoutMs=500', '--wait', '--coordinators', coordinators.join(','));
      expect(set.code, set.err).toBe(0);
      const config = await getJson<{ settings: { replication: { ackTimeoutMs: number } }; version: number; nodes: Record<string, number | null> }>(h, '/cluster/config');
      expect(config.settings.replication.ackTimeoutMs).toBe(500);
      expect(Object.values(config.nodes)).toEqual(h.nodes.map(() => config.version));
    } finally {
      kv.close();
    }
  }, 120_000);
});
