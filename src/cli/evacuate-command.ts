/**
 * `torua node evacuate ID [--reason R] [--wait] [--cancel]`: the node's
 * copies move away at once, primaries first; it ends in maintenance.
 * `--wait` shows the replicated progress (a bar on a terminal, a line per
 * change otherwise) and exits 0 when done, 1 when stalled (with why) or
 * cancelled. `--cancel` stops an evacuation; what moved stays moved.
 */
import type { EvacuationInfo } from '../api/coordinator/index.js';
import type { ClusterClient } from '../client/index.js';
import { formatDuration } from '../api/coordinator/wire/duration.js';
import { runAdminCall } from './admin-call.js';
import type { PlannedFlags } from './maintenance-command.js';
import type { CliIo } from './run.js';
import { WAIT_INTERVAL_MS, WAIT_STUCK_AFTER_MS } from './maintenance-command.js';
import { createProgress } from './progress.js';
import { pollUntil } from './wait-progress.js';

export interface EvacuateFlags extends PlannedFlags {
  readonly cancel?: boolean | undefined;
}

const usage = 'usage: torua node evacuate ID [--reason R] [--wait] | torua node evacuate ID --cancel';

export function evacuationLine(ev: EvacuationInfo): string {
  const eta = ev.eta_ms === null ? '' : `, eta ${formatDuration(ev.eta_ms)}`;
  return `copies moved, ${ev.remaining} left${eta}${ev.stalled_reason === null ? '' : `, stalled: ${ev.stalled_reason}`}`;
}

async function waitDone(client: ClusterClient, id: string, io: CliIo): Promise<{ data: unknown; text: string }> {
  const progress = createProgress({ label: `evacuate ${id}`, tty: io.errIsTty ?? false, write: io.err });
  try {
    return await pollUntil<{ data: unknown; text: string }>(
      async () => {
        const node = await client.nodes.get.query({ id });
        const ev = node.evacuation;
        if (ev === null) throw new Error(`${id} has no evacuation`);
        progress.update(ev.moved, ev.total, evacuationLine(ev));
        if (ev.state === 'done') return { result: { data: node, text: `done: ${id} evacuated (${ev.total} copies moved) and in maintenance` }, progressKey: '' };
        if (ev.state === 'cancelled') throw new Error(`the evacuation of ${id} was cancelled with ${ev.remaining} copies left`);
        if (ev.stalled_reason !== null) throw new Error(`the evacuation of ${id} is stalled: ${ev.stalled_reason}`);
        return { progressKey: `${ev.moved}` };
      },
      { intervalMs: WAIT_INTERVAL_MS, stuckAfterMs: WAIT_STUCK_AFTER_MS },
      `the evacuation of ${id}`,
    );
  } finally {
    progress.finish();
  }
}

export function runEvacuate(args: readonly string[], flags: EvacuateFlags, io: CliIo): Promise<number> {
  const [id, ...rest] = args;
  const problems = [
    ...(id === undefined ? ['a node ID is required'] : []),
    ...(rest.length > 0 ? [`one node at a time (got ${args.join(' ')})`] : []),
    ...(flags.cancel === true && flags.wait === true ? ['--wait is not for --cancel'] : []),
    ...(flags.ttl !== undefined ? ['--ttl is for maintenance'] : []),
  ];
  if (problems.length > 0 || id === undefined) {
    io.err(`torua node evacuate: ${problems.join('; ')}\n${usage}\n`);
    return Promise.resolve(2);
  }
  const reason = flags.reason === undefined ? {} : { reason: flags.reason };
  return runAdminCall('node evacuate', flags, io, async (client, context) => {
    if (flags.cancel === true) {
      const node = await client.nodes.cancelEvacuation.mutate({ id, ...reason }, { context });
      return { data: node, text: `${id}: evacuation cancelled (${node.evacuation?.moved ?? 0} copies moved stay moved, ${node.shard_count} still on ${id})` };
    }
    const node = await client.nodes.evacuate.mutate({ id, ...reason }, { context });
    const started = `${id}: evacuating, ${node.evacuation?.total ?? node.shard_count} copies to move`;
    if (flags.wait !== true) return { data: node, text: `${started}\nfollow it with: torua node evacuate ${id} --wait, or GET /nodes/${id}/info` };
    io.err(`${started}\n`);
    return waitDone(client, id, io);
  });
}
