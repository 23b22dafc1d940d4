/**
 * `torua coordinator --config FILE --id ID [--data-dir DIR] [--log-level L] [--join]`: one replica, until SIGTERM/SIGINT.
 * `--join`: the replica is not a voter of the file's cluster (yet); it starts with no voters and waits
 * for the leader to add it (POST /cluster/members), and fills its state from the leader's snapshot.
 */
import { loadClusterFile, loadInternalToken, resolveCoordinator } from '../config/index.js';
import { startCoordinatorProcess } from './coordinator-process.js';
import { checkPlaintextAllowed, type SecurityChoice } from './process-security.js';
import type { CliIo } from './run.js';
import { tlsFlags } from './tls-flags.js';

export interface ProcessFlags {
  readonly config?: string | undefined;
  readonly id?: string | undefined;
  readonly 'data-dir'?: string | undefined;
  readonly 'log-level'?: string | undefined;
  readonly join?: boolean | undefined;
  readonly insecure?: boolean | undefined;
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
}

export async function runCoordinator(flags: ProcessFlags, io: CliIo): Promise<number> {
  if (!flags.config || !flags.id) {
    io.err('torua coordinator: --config FILE and --id ID are required\n');
    return 2;
  }
  let view;
  let security: SecurityChoice;
  let internalToken: string | undefined;
  try {
    const file = await loadClusterFile(flags.config);
    view = resolveCoordinator(file, flags.id, { dataDir: flags['data-dir'], logLevel: flags['log-level'] }, flags.config);
    security = { tls: tlsFlags('torua coordinator', flags) ?? view.tls, insecure: flags.insecure === true };
    checkPlaintextAllowed('torua coordinator', [view.self.host], security);
    internalToken = file.auth === undefined ? undefined : await loadInternalToken(flags.config, file.auth);
  } catch (e) {
    io.err(`${(e as Error).message}\n`);
    return 2;
  }
  let running;
  try {
    running = await startCoordinatorProcess(view, { join: flags.join === true, security, ...(internalToken === undefined ? {} : { internalToken }) });
  } catch (e) {
    io.err(`torua coordinator ${flags.id}: ${(e as Error).message}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await running.close();
  return 0;
}
