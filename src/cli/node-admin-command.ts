/**
 * `torua node drain ID [--wait] [--timeout S]` and `torua node remove ID`:
 * the operator's side of a node leaving. Drain moves the node's copies away
 * (the leader carries on across a leader change, it is in the table); with
 * `--wait` it follows the move until the node is `left`, with a progress bar
 * on a terminal. Remove takes the node out at once.
 */
import { errorCodeOf, type ClusterClient, type NodeDetail } from '../client/index.js';
import { usage } from './cli-error.js';
import { runClientCommand, type CommandResult, type OutputFlags } from './admin-call.js';
import { EXIT_FAILED } from './exit-codes.js';
import { createProgress } from './progress.js';
import type { CliIo } from './run.js';
import { sleep } from '../common/backoff.js';

export interface NodeAdminFlags extends OutputFlags {
  readonly wait?: boolean | undefined;
  readonly timeout?: string | undefined;
}

export const DEFAULT_WAIT_TIMEOUT_S = 600;
const POLL_MS = 1_000;


function timeoutOf(text: string | undefined): number {
  if (text === undefined) return DEFAULT_WAIT_TIMEOUT_S * 1000;
  if (!/^\d{1,6}$/.test(text) || Number(text) < 1) throw usage(`node drain: --timeout: expected seconds (1-999999), got ${JSON.stringify(text)}`);
  return Number(text) * 1000;
}

/** Follows a draining node until it is `left` (or gone), reporting copies moved. */
async function waitForDrain(client: ClusterClient, id: string, first: NodeDetail, deadlineMs: number, io: CliIo): Promise<CommandResult> {
  const progress = createProgress({ label: `drain ${id}`, tty: io.errIsTty ?? false, write: io.err });
  let total = first.shard_count;
  let last: NodeDetail = first;
  for (;;) {
    let node: NodeDetail | undefined;
    try {
      node = await client.nodes.get.query({ id, consistency: 'stale' });
    } catch (e) {
      if (errorCodeOf(e) !== 'NOT_FOUND') throw e;
    }
    if (node === undefined || node.status === 'left') {
      progress.update(total, total);
      progress.finish();
      return { data: node ?? last, text: `${id} is drained: ${node === undefined ? 'it is no longer in the table' : 'every copy moved away, it is left'}` };
    }
    last = node;
    if (node.status !== 'draining') {
      progress.finish();
      return { data: node, text: `${id} stopped draining: it is ${node.status} (${node.status_reason})`, exitCode: EXIT_FAILED };
    }
    total = Math.max(total, node.shard_count);
    progress.update(total - node.shard_count, total, `${node.shard_count} cop${node.shard_count === 1 ? 'y' : 'ies'} left`);
    if (Date.now() > deadlineMs) {
      progress.finish();
      return { data: node, text: `${id} is still draining after the timeout (${node.shard_count} copies left); watch it with torua nodes`, exitCode: EXIT_FAILED };
    }
    await sleep(POLL_MS);
  }
}

/** Usage problems are thrown inside the command, so that they are reported like any failure (text or --json); nothing is sent before them. */
export function runNodeDrain(id: string | undefined, flags: NodeAdminFlags, io: CliIo): Promise<number> {
  return runClientCommand('node drain', flags, io, async ({ client, context }) => {
    if (!id) throw usage('node drain: which node? torua node drain ID');
    const deadlineIn = timeoutOf(flags.timeout);
    const node = await client.nodes.drain.mutate({ id, reason: 'torua node drain' }, { context });
    if (!flags.wait) {
      return { data: node, text: `${id} is draining: its ${node.shard_count} shard copies move away, then it is left (follow with torua node drain ${id} --wait, or torua nodes)` };
    }
    return waitForDrain(client, id, node, Date.now() + deadlineIn, io);
  });
}

export function runNodeRemove(id: string | undefined, flags: OutputFlags, io: CliIo): Promise<number> {
  return runClientCommand('node remove', flags, io, async ({ client, context }) => {
    if (!id) throw usage('node remove: which node? torua node remove ID');
    const node = await client.nodes.remove.mutate({ id, reason: 'torua node remove' }, { context });
    return { data: node, text: `removed ${id} (it held ${node.shard_count} shard copies; in-sync replicas took over its primaries, lost copies are re-created elsewhere)` };
  });
}
