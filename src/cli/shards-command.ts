/** `torua shards [--json]`: every shard with its primary, replicas, in-sync set, epoch, state and recovery progress. */
import type { ShardInfo } from '../client/index.js';
import { runClientCommand, type OutputFlags } from './admin-call.js';
import type { CliIo } from './run.js';
import { formatTable } from './text-table.js';

function recoveryOf(s: ShardInfo): string {
  if (s.recovery === null) return '-';
  const { node, copied_keys: copied, total_keys: total } = s.recovery;
  return total === null ? `${node}: ${copied} keys` : `${node}: ${copied}/${total} keys (${Math.floor((100 * copied) / Math.max(1, total))}%)`;
}

export function renderShards(shards: readonly ShardInfo[]): string {
  const rows = shards.map((s) => {
    const outOfSync = s.replicas.filter((r) => !s.in_sync.includes(r));
    return [
      String(s.id),
      s.primary ?? '-',
      s.replicas.join(',') || '-',
      s.in_sync.join(',') || '-',
      outOfSync.join(',') || '-',
      String(s.epoch),
      s.state,
      recoveryOf(s),
    ];
  });
  return formatTable(['SHARD', 'PRIMARY', 'REPLICAS', 'IN SYNC', 'OUT OF SYNC', 'EPOCH', 'STATE', 'RECOVERY'], rows);
}

export function runShards(flags: OutputFlags, io: CliIo): Promise<number> {
  return runClientCommand('shards', flags, io, async ({ client, context }) => {
    const answer = await client.shards.list.query(undefined, { context });
    return { data: answer, text: renderShards(answer.shards).trimEnd() };
  });
}
