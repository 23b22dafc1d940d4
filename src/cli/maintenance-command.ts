/**
 * `torua node maintenance on|off ID… [--ttl 30m] [--reason R] [--wait]`:
 * every node named goes into maintenance (its copies move to other nodes,
 * it is never declared failed) or back to being an ordinary member, all or
 * none. `--wait` (on) waits until the nodes hold no copy, (off) until the
 * health monitor has found them healthy again.
 */
import type { ClusterClient } from '../client/index.js';
import { runAdminCall } from './admin-call.js';
import type { TargetFlags } from './cluster-target.js';
import type { CliIo } from './run.js';
import { createProgress } from './progress.js';
import { parseDurationFlag, pollUntil } from './wait-progress.js';

export interface PlannedFlags extends TargetFlags {
  readonly ttl?: string | undefined;
  readonly reason?: string | undefined;
  readonly wait?: boolean | undefined;
}

/** How often `--wait` looks, and how long it waits without any copy moving before it gives up (exit 1). */
export const WAIT_INTERVAL_MS = 500;
export const WAIT_STUCK_AFTER_MS = 120_000;

const usage = 'usage: torua node maintenance on|off ID… [--ttl 30m] [--reason R] [--wait]';

async function copiesLeft(client: ClusterClient, ids: readonly string[]): Promise<Map<string, number>> {
  const { nodes } = await client.nodes.list.query();
  return new Map(ids.map((id) => [id, nodes.find((n) => n.id === id)?.shard_count ?? 0]));
}

async function waitEmpty(client: ClusterClient, ids: readonly string[], io: CliIo): Promise<void> {
  const progress = createProgress({ label: 'maintenance', tty: io.errIsTty ?? false, write: io.err });
  let total: number | undefined;
  try {
    await pollUntil(
      async () => {
        const left = await copiesLeft(client, ids);
        const remaining = [...left.values()].reduce((a, b) => a + b, 0);
        total ??= remaining;
        const busy = [...left].filter(([, n]) => n > 0).map(([id, n]) => `${id} ${n}`);
        progress.update(Math.max(0, total - remaining), total, `copies moved${busy.length > 0 ? ` (left: ${busy.join(', ')})` : ''}`);
        return { ...(remaining === 0 ? { result: true } : {}), progressKey: String(remaining) };
      },
      { intervalMs: WAIT_INTERVAL_MS, stuckAfterMs: WAIT_STUCK_AFTER_MS },
      'copies still on the nodes',
    );
  } finally {
    progress.finish();
  }
}

async function waitHealthy(client: ClusterClient, ids: readonly string[]): Promise<void> {
  await pollUntil(
    async () => {
      const { nodes } = await client.nodes.list.query();
      const pending = ids.filter((id) => nodes.find((n) => n.id === id)?.status !== 'healthy');
      return { ...(pending.length === 0 ? { result: true } : {}), progressKey: pending.join(',') };
    },
    { intervalMs: WAIT_INTERVAL_MS, stuckAfterMs: WAIT_STUCK_AFTER_MS },
    'nodes not healthy again',
  );
}

export function runMaintenance(args: readonly string[], flags: PlannedFlags, io: CliIo): Promise<number> {
  const [mode, ...ids] = args;
  const problems: string[] = [];
  if (mode !== 'on' && mode !== 'off') problems.push(mode === undefined ? 'on or off is required' : `expected on or off, got ${JSON.stringify(mode)}`);
  if (ids.length === 0) problems.push('at least one node ID is required');
  const ttlMs = flags.ttl === undefined ? undefined : parseDurationFlag('--ttl', flags.ttl);
  if (typeof ttlMs === 'string') problems.push(ttlMs);
  if (mode === 'off' && flags.ttl !== undefined) problems.push('--ttl is for `on`');
  if (problems.length > 0 || typeof ttlMs === 'string') {
    io.err(`torua node maintenance: ${problems.join('; ')}\n${usage}\n`);
    return Promise.resolve(2);
  }
  const enabled = mode === 'on';
  return runAdminCall('node maintenance', flags, io, async (client, context) => {
    const answer = await client.nodes.maintenance.mutate(
      { nodes: ids, enabled, ...(flags.reason === undefined ? {} : { reason: flags.reason }), ...(ttlMs === undefined ? {} : { ttlMs }) },
      { context },
    );
    const lines = answer.nodes
      .map((n) =>
        n.maintenance === null
          ? `${n.id}: ${n.status}`
          : `${n.id}: maintenance${n.maintenance.until_ms === null ? '' : ` until ${new Date(n.maintenance.until_ms).toISOString()}`}, ${n.shard_count} cop${n.shard_count === 1 ? 'y' : 'ies'} to move`,
      )
      .join('\n');
    if (flags.wait !== true) return { data: answer, text: `${lines}\n${enabled ? 'their copies move to other nodes; --wait waits for it' : 'ordinary members again'}` };
    io.err(`${lines}\n`);
    if (enabled) {
      await waitEmpty(client, ids, io);
      return { data: answer, text: `done: ${ids.join(', ')} hold no copy` };
    }
    await waitHealthy(client, ids);
    return { data: answer, text: `done: ${ids.join(', ')} healthy` };
  });
}
