/** A cluster of real processes with its data nodes, started and settled: every node healthy, every shard with all its copies in sync. */
import { waitFor, type Cluster, type ClusterOptions } from './cluster-harness.js';

export async function startPlacedCluster(create: (opts: ClusterOptions) => Promise<Cluster>, opts: ClusterOptions): Promise<Cluster> {
  const h = await create(opts);
  await h.startVoters();
  await h.waitForLeader({ all: true });
  await Promise.all(h.nodes.map((n) => h.start(n.id)));
  const copies = opts.replicationFactor ?? 2;
  await waitFor(
    'every shard placed with its copies in sync and every node healthy',
    async () => {
      const [nodes, shards] = await Promise.all([h.get(h.voters[0]!, '/nodes?stale=true'), h.get(h.voters[0]!, '/shards?stale=true')]);
      if (nodes.status !== 200 || shards.status !== 200) return undefined;
      const healthy = (nodes.body.nodes as { status: string }[]).every((n) => n.status === 'healthy');
      const placed = (shards.body.shards as { primary: string | null; in_sync: string[] }[]).every((s) => s.primary !== null && s.in_sync.length === copies);
      return healthy && placed && nodes.body.nodes.length === h.nodes.length ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  return h;
}
