/** `torua status [--json] [--config FILE | --coordinators A,B,C]`: the replicas and the cluster state. */
import { CliError } from './cli-error.js';
import { resolveTarget, type TargetFlags } from './cluster-target.js';
import { EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE } from './exit-codes.js';
import { jsonFailure } from './json-output.js';
import type { CliIo } from './run.js';
import { gatherStatus, type StatusReport } from './status-report.js';
import { renderStatus } from './status-render.js';

export interface StatusFlags extends TargetFlags {
  readonly json?: boolean | undefined;
}

/** 0 when the cluster answered `cluster.info` (it has a leader and a quorum), 3 when no replica answered at all, 1 otherwise. */
export function statusExitCode(report: StatusReport): 0 | 1 | 3 {
  if (report.cluster !== null) return EXIT_OK;
  return report.replicas.some((r) => r.ok) ? EXIT_FAILED : EXIT_UNREACHABLE;
}

export async function runStatus(flags: StatusFlags, io: CliIo): Promise<number> {
  let report;
  try {
    report = await gatherStatus(await resolveTarget('status', flags));
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    if (flags.json) io.out(jsonFailure('status', e.exitCode, e));
    else io.err(`torua ${e.message}\n`);
    return e.exitCode;
  }
  const code = statusExitCode(report);
  if (!flags.json) io.out(renderStatus(report));
  else if (code === EXIT_OK) io.out(`${JSON.stringify({ ok: true, command: 'status', data: report })}\n`);
  // A cluster that does not answer still has replicas to show: the failure carries the report as data.
  else io.out(`${JSON.stringify({ ok: false, command: 'status', exit_code: code, error: { code: code === EXIT_UNREACHABLE ? 'UNAVAILABLE' : 'NO_CLUSTER', message: report.clusterError ?? 'no answer' }, data: report })}\n`);
  return code;
}
