/**
 * `torua upgrade --to VERSION --restart 'COMMAND {id}' [--timeout 2m]
 * [--reason R] [--resume]`: a rolling upgrade (upgrade-driver.ts), recorded
 * in the routing table through `POST /cluster/upgrade`. Progress on stderr
 * (a bar on a terminal, a line per change otherwise) and in `/cluster/info`.
 * Exit 0 when every process runs VERSION; 1 when one did not come back (the
 * upgrade stops there, the cluster keeps serving), or when an upgrade is
 * running already (409) — `--resume` carries a running one on instead.
 */
import type { ClusterClient } from '../client/index.js';
import { runClientCommand, type OutputFlags } from './admin-call.js';
import { EXIT_FAILED, EXIT_USAGE } from './exit-codes.js';
import { createProgress } from './progress.js';
import { ID_PLACEHOLDER } from './restart-process.js';
import type { CliIo } from './run.js';
import { UpgradeDriver, UpgradeStopped, type UpgradePlan } from './upgrade-driver.js';
import { parseDurationFlag } from './wait-progress.js';

export interface UpgradeFlags extends OutputFlags {
  readonly to?: string | undefined;
  readonly restart?: string | undefined;
  readonly timeout?: string | undefined;
  readonly reason?: string | undefined;
  readonly resume?: boolean | undefined;
}

const usage = "usage: torua upgrade --to VERSION --restart 'COMMAND {id}' [--timeout 2m] [--reason R] [--resume]";

/** The upgrade to drive: a new one, or with --resume the one running (which must be to the same version). */
async function planOf(client: ClusterClient, flags: UpgradeFlags, to: string, restartTimeoutMs: number | undefined): Promise<UpgradePlan> {
  if (flags.resume === true) {
    const running = await client.upgrade.status.query();
    if (running === null || running.state !== 'running') throw new Error('--resume: no upgrade is running');
    if (running.to !== to) throw new Error(`--resume: the running upgrade is to ${running.to}, not ${to}`);
    return { to, nodes: running.nodes, coordinators: running.coordinators, done: running.done, restartTimeoutMs: running.restart_timeout_ms };
  }
  const started = await client.upgrade.start.mutate({
    to,
    ...(restartTimeoutMs === undefined ? {} : { restartTimeoutMs }),
    ...(flags.reason === undefined ? {} : { reason: flags.reason }),
  });
  return { to, nodes: started.nodes, coordinators: started.coordinators, done: started.done, restartTimeoutMs: started.restart_timeout_ms };
}

export function runUpgrade(flags: UpgradeFlags, io: CliIo): Promise<number> {
  const timeout = flags.timeout === undefined ? undefined : parseDurationFlag('--timeout', flags.timeout);
  const problems = [
    ...(flags.to === undefined || flags.to === '' ? ['--to VERSION is required'] : []),
    ...(flags.restart === undefined ? ['--restart COMMAND is required'] : !flags.restart.includes(ID_PLACEHOLDER) ? [`--restart: the command must contain ${ID_PLACEHOLDER} (the id of the process to restart)`] : []),
    ...(typeof timeout === 'string' ? [timeout] : []),
  ];
  if (problems.length > 0 || flags.to === undefined || flags.restart === undefined || typeof timeout === 'string') {
    io.err(`torua upgrade: ${problems.join('; ')}\n${usage}\n`);
    return Promise.resolve(EXIT_USAGE);
  }
  const { to, restart } = flags;
  return runClientCommand('upgrade', flags, io, async ({ client }) => {
    const plan = await planOf(client, flags, to, timeout);
    io.err(`upgrade to ${to}: nodes ${plan.nodes.join(', ') || '-'}, then coordinators ${plan.coordinators.join(', ')}${plan.done.length > 0 ? ` (done already: ${plan.done.join(', ')})` : ''}\n`);
    const progress = createProgress({ label: `upgrade to ${to}`, tty: io.errIsTty ?? false, write: io.err });
    const tty = io.errIsTty ?? false;
    const say = (line: string) => io.err(`${tty ? '\r\x1b[2K' : ''}${line}\n`);
    const driver = new UpgradeDriver(plan, { restart }, { client, progress, say, note: tty ? () => undefined : say, writeErr: io.err });
    try {
      await driver.run();
    } catch (e) {
      if (!(e instanceof UpgradeStopped)) throw e;
      const info = await client.upgrade.status.query().catch(() => null);
      return { data: info, text: `upgrade to ${to} stopped: ${e.message}; the others keep their version and the cluster keeps serving`, exitCode: EXIT_FAILED };
    }
    const info = await client.upgrade.status.query();
    return { data: info, text: `upgrade to ${to} done: ${info?.done.join(', ') ?? ''}` };
  });
}
