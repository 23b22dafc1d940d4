/** `torua status [--json] [--config FILE | --coordinators A,B,C]`: the replicas and the cluster state. */
import { CliError } from './cli-error.js';
import { resolveTarget, type TargetFlags } from './cluster-target.js';
import type { CliIo } from './run.js';
import { gatherStatus } from './status-report.js';
import { renderStatus } from './status-render.js';

export interface StatusFlags extends TargetFlags {
  readonly json?: boolean | undefined;
}

/** 0 when the cluster answered `cluster.info` (it has a leader and a quorum), 1 when not. */
export async function runStatus(flags: StatusFlags, io: CliIo): Promise<number> {
  let report;
  try {
    report = await gatherStatus(await resolveTarget('status', flags));
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    io.err(`torua ${e.message}\n`);
    return e.exitCode;
  }
  io.out(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report));
  return report.cluster === null ? 1 : 0;
}
