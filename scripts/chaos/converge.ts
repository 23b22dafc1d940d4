/**
 * The checks after healing: (c) every coordinator replica reports the same
 * state hash at the same applied index, and (d) every shard has a serving
 * primary and all its copies in sync (the table says so, and each node's
 * /info shows the copy at the table's epoch with the primary's seq), all
 * within a stated bound; then the final read of every key, through a
 * coordinator (forwarded to the primary: linearizable).
 */
import type { FinalRead } from './history.js';
import { sleep } from '../launch/wait-for.js';
import { REPLICATION_FACTOR, SHARDS, type ChaosCluster, type ShardView } from './cluster.js';
import { dataRequest } from './data-request.js';

/** How long after healing the cluster has to converge (printed with the verdict). */
export const CONVERGE_BOUND_MS = 30_000;

export interface Convergence {
  readonly ok: boolean;
  readonly elapsedMs: number;
  /** What was still missing at the deadline, or the state reached. */
  readonly detail: string;
}

/** What keeps the cluster from having converged now; undefined when it has. */
export async function notConverged(c: ChaosCluster): Promise<string | undefined> {
  const leader = await c.leader();
  if (leader === undefined) return 'no leader agreed by a majority';
  const shards = ((await c.call(leader.id, 'GET', '/shards', undefined, 2_000).then((a) => (a.status === 200 ? JSON.parse(a.text) : undefined))) as { shards?: ShardView[] } | undefined)?.shards;
  if (shards === undefined || shards.length !== SHARDS) return `GET /shards on ${leader.id}: no table of ${SHARDS} shards`;
  const problems: string[] = [];
  for (const s of shards) {
    const copies = s.primary === null ? s.replicas : [s.primary, ...s.replicas];
    if (s.primary === null) problems.push(`shard ${s.id}: no primary`);
    else if (s.state !== 'active') problems.push(`shard ${s.id}: ${s.state}`);
    else if (copies.length < REPLICATION_FACTOR) problems.push(`shard ${s.id}: ${copies.length} of ${REPLICATION_FACTOR} copies`);
    else if (copies.some((n) => !s.in_sync.includes(n))) problems.push(`shard ${s.id}: in sync [${s.in_sync.join(',')}] of [${copies.join(',')}]`);
  }
  if (problems.length > 0) return problems.slice(0, 4).join('; ');
  const views = new Map(await Promise.all(c.nodes.map(async (n) => [n.id, await c.copiesOf(n.id)] as const)));
  for (const s of shards) {
    const seqs: string[] = [];
    for (const n of [s.primary!, ...s.replicas]) {
      const copy = views.get(n)?.find((x) => x.id === s.id);
      const role = n === s.primary ? 'primary' : 'replica';
      if (copy === undefined) return `shard ${s.id}: ${n} does not report its copy`;
      if (copy.epoch !== s.epoch || copy.role !== role) return `shard ${s.id}: ${n} holds it as ${copy.role} at epoch ${copy.epoch}, the table says ${role} at ${s.epoch}`;
      seqs.push(`${n}@${copy.seq}`);
    }
    if (new Set(seqs.map((x) => x.split('@')[1])).size > 1) return `shard ${s.id}: copies at different seqs (${seqs.join(' ')})`;
  }
  const hs = await c.healthOfAll(1_000);
  if (hs.length !== c.coordinators.length) return `${hs.length} of ${c.coordinators.length} coordinators answer /health`;
  const first = hs[0]!;
  const same = hs.every((h) => h.applied_index === first.applied_index && h.commit_index === h.applied_index && h.state_hash === first.state_hash);
  if (!same) return `coordinators differ: ${hs.map((h) => `${h.id} c${h.commit_index}/a${h.applied_index}/${h.state_hash.slice(0, 12)}`).join(' ')}`;
  return undefined;
}

/** Polls `notConverged` until it holds or `boundMs` passed. */
export async function waitConverged(c: ChaosCluster, boundMs = CONVERGE_BOUND_MS): Promise<Convergence> {
  const started = performance.now();
  let last = 'not checked yet';
  for (let i = 0; i < 100_000; i++) {
    const missing = await notConverged(c).catch((e: unknown) => `check failed: ${(e as Error).message}`);
    const elapsedMs = performance.now() - started;
    if (missing === undefined) {
      const h = (await c.healthOfAll())[0];
      return { ok: true, elapsedMs, detail: `every shard served and in sync; coordinators at applied index ${h?.applied_index} with state hash ${h?.state_hash.slice(0, 16)}` };
    }
    last = missing;
    if (elapsedMs > boundMs) break;
    await sleep(250);
  }
  return { ok: false, elapsedMs: performance.now() - started, detail: last };
}

/** Each key's value after healing, read through the coordinators (retried within `boundMs`); a key that gets no answer is left out. */
export async function finalReads(c: ChaosCluster, keys: readonly string[], boundMs = CONVERGE_BOUND_MS): Promise<{ reads: FinalRead[]; unread: string[] }> {
  const reads: FinalRead[] = [];
  const unread: string[] = [];
  const deadline = performance.now() + boundMs;
  for (const key of keys) {
    let read: FinalRead | undefined;
    for (let i = 0; read === undefined && performance.now() < deadline; i++) {
      const m = c.coordinators[i % c.coordinators.length]!;
      const a = await dataRequest(m.host, m.port, 'GET', key, undefined, 5_000);
      if (a.status === 200) read = { key, value: a.value };
      else await sleep(100);
    }
    if (read === undefined) unread.push(key);
    else reads.push(read);
  }
  return { reads, unread };
}
