/**
 * `torua node --config FILE --id ID [--data-dir DIR] [--log-level L]`, or
 * `torua node --id ID --host H --port P --coordinators A,B [--data-dir DIR] [--capacity N] [--log-level L]`:
 * one data node, until a signal. SIGTERM drains first (the cluster moves the
 * node's shards away, bounded by DRAIN_TIMEOUT_MS), SIGINT stops at once, and
 * a second signal of either kind exits without waiting for anything.
 */
import { CliError } from './cli-error.js';
import { resolveNodeFlags, type NodeFlags, type NodeProcessConfig } from './node-flags.js';
import type { RunningNode } from './node-process.js';
import type { CliIo } from './run.js';

export type { NodeFlags } from './node-flags.js';

/** How long a SIGTERM waits for the node's shards to move before the node stops anyway. */
export const DRAIN_TIMEOUT_MS = 30_000;
/** Exit code of a second signal (the shell's convention for "killed by a signal" is 128 + n; this one is ours). */
export const EXIT_FORCED = 1;

type StopSignal = 'SIGTERM' | 'SIGINT';

/** What the command runs; tests replace it to check argument handling without a process. */
export interface NodeCommandModules {
  readonly start: (config: NodeProcessConfig) => Promise<RunningNode>;
}

/** The first SIGTERM or SIGINT; every later one exits the process at once. */
function firstSignal(onForced: () => void): { readonly signal: Promise<StopSignal>; dispose(): void } {
  let received = false;
  let resolve: (s: StopSignal) => void = () => undefined;
  const signal = new Promise<StopSignal>((r) => (resolve = r));
  const on = (name: StopSignal) => () => {
    if (received) {
      onForced();
      process.exit(EXIT_FORCED);
    }
    received = true;
    resolve(name);
  };
  const onTerm = on('SIGTERM');
  const onInt = on('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  return {
    signal,
    dispose() {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
    },
  };
}

async function drainThenStop(running: RunningNode): Promise<void> {
  running.logger.info(`draining: waiting up to ${DRAIN_TIMEOUT_MS / 1_000} s for the cluster to move this node's shards away`);
  try {
    await running.drain(DRAIN_TIMEOUT_MS);
    running.logger.info('drained: no shards left on this node');
  } catch (e) {
    running.logger.warn('stopping without a complete drain', { error: (e as Error).message });
  }
  await running.stop();
}

/** Loaded when a node starts: the other commands of `torua` never load the engine. */
const defaultModules: NodeCommandModules = {
  start: async (config) => (await import('./node-process.js')).startNodeProcess(config),
};

export async function runNode(flags: NodeFlags, io: CliIo, modules: NodeCommandModules = defaultModules): Promise<number> {
  let config: NodeProcessConfig;
  try {
    config = await resolveNodeFlags(flags);
  } catch (e) {
    io.err(`${(e as Error).message}\n`);
    return e instanceof CliError ? e.exitCode : 2;
  }
  let running: RunningNode;
  try {
    running = await modules.start(config);
  } catch (e) {
    io.err(`torua node ${config.id}: ${(e as Error).message}\n`);
    return 1;
  }
  const signals = firstSignal(() => running.logger.warn('second signal: exiting at once'));
  try {
    const first = await Promise.race([running.registered.then(() => undefined), signals.signal]);
    const signal = first ?? (await signals.signal);
    running.logger.info(`${signal}: ${signal === 'SIGTERM' ? 'draining, then stopping' : 'stopping without draining'}`);
    // A node stopped before it registered has nothing to drain.
    if (signal === 'SIGTERM' && first === undefined) await drainThenStop(running);
    else await running.stop();
    return 0;
  } catch (e) {
    // start() failed: CONFLICT (another identity holds the id) or a store that cannot open.
    io.err(`torua node ${config.id}: ${(e as Error).message}\n`);
    await running.stop().catch(() => undefined);
    return 1;
  } finally {
    signals.dispose();
  }
}
