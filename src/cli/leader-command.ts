/** `torua leader transfer --to ID`: hands leadership to replica ID; answers once ID leads. */
import { runAdminCall } from './admin-call.js';
import type { TargetFlags } from './cluster-target.js';
import type { CliIo } from './run.js';

export interface LeaderFlags extends TargetFlags {
  readonly to?: string | undefined;
  readonly json?: boolean | undefined;
}

export function runLeaderTransfer(flags: LeaderFlags, io: CliIo): Promise<number> {
  const to = flags.to;
  if (to === undefined || to === '') {
    io.err('torua leader transfer: --to ID is required (the replica to hand leadership to)\n');
    return Promise.resolve(2);
  }
  return runAdminCall('leader transfer', flags, io, async (client, context) => {
    const answer = await client.members.transferLeader.mutate({ to }, { context });
    return { data: answer, text: `leader is now ${answer.leader}` };
  });
}
