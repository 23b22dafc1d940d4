/** `torua rebalance`: asks the leader to spread the shard copies evenly again, and prints what its next placement round did. */
import { runAdminCall } from './admin-call.js';
import type { OutputFlags } from './admin-call.js';
import type { CliIo } from './run.js';

export function runRebalance(flags: OutputFlags, io: CliIo): Promise<number> {
  return runAdminCall('rebalance', flags, io, async (client, context) => {
    const answer = await client.admin.rebalance.mutate({ reason: 'torua rebalance' }, { context });
    const lines = [
      answer.round_finished
        ? `rebalance requested: ${answer.balance_steps} balance step${answer.balance_steps === 1 ? '' : 's'} in the first round (${answer.steps.length} step${answer.steps.length === 1 ? '' : 's'} in all)`
        : 'rebalance requested: the placement round is still running',
      ...answer.steps.map((s) => `  ${s.command}${s.shard === null ? '' : ` shard ${s.shard}`}: ${s.reason}`),
      ...answer.waiting.map((w) => `  waiting for a primary to be fenced: ${w}`),
      ...(answer.stopped_by === null ? [] : [`  the round stopped early: ${answer.stopped_by}`]),
      answer.in_progress ? 'more steps follow as copies catch up; watch /events or torua status' : 'the copies are as even as they can be',
    ];
    return { data: answer, text: lines.join('\n') };
  });
}
