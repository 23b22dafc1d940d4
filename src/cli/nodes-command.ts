/** `torua nodes [--json]`: the data nodes, one row each, as the leader sees them (suspect and a degraded path are the leader's view). */
import type { NodeInfo, ShardInfo } from '../client/index.js';
import { runClientCommand, type OutputFlags } from './admin-call.js';
import type { CliIo } from './run.js';
import { formatTable } from './text-table.js';

const ago = (ms: number | null | undefined): string => (ms == null ? '-' : ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`);

/** Status as an operator means it: the leader's health view (suspect) where it has one, else the table's. */
export function nodeStatusOf(n: NodeInfo): string {
  return n.health?.status ?? n.status;
}

export function renderNodes(nodes: readonly NodeInfo[], shards: readonly ShardInfo[]): string {
  if (nodes.length === 0) return 'no data nodes registered\n';
  const rows = nodes.map((n) => [
    n.id,
    n.address,
    nodeStatusOf(n),
    n.health?.path ?? '-',
    String(n.shard_count),
    String(shards.filter((s) => s.primary === n.id).length),
    `${n.shard_count}/${n.capacity}`,
    n.version || '-',
    n.labels['zone'] ?? '-',
    ago(n.health?.last_successful_probe_ms_ago),
    n.health?.reason || n.status_reason || '',
  ]);
  return formatTable(['ID', 'ADDRESS', 'STATUS', 'PATH', 'SHARDS', 'PRIMARIES', 'USED/CAP', 'VERSION', 'ZONE', 'LAST PROBE', 'WHY'], rows);
}

export function runNodes(flags: OutputFlags, io: CliIo): Promise<number> {
  return runClientCommand('nodes', flags, io, async ({ client, context }) => {
    const [nodes, shards] = await Promise.all([client.nodes.list.query(undefined, { context }), client.shards.list.query(undefined, { context })]);
    return { data: nodes, text: renderNodes(nodes.nodes, shards.shards).trimEnd() };
  });
}
