/**
 * One command that talks to the cluster through the client: the target from
 * the flags, the call, and its outcome printed as text (`torua <command>: …`
 * with the error's code when it fails) or as the `--json` document, with the
 * documented exit code (exit-codes.ts).
 */
import { createClusterClient, type ClusterClient } from '../client/index.js';
import { CliError } from './cli-error.js';
import { resolveTarget, type TargetFlags } from './cluster-target.js';
import { exitCodeOf, EXIT_OK, type ExitCode } from './exit-codes.js';
import { jsonFailure, jsonSuccess } from './json-output.js';
import type { CliIo } from './run.js';
import { describeClientError } from '../client/index.js';

/**
 * Membership changes and transfers wait for the cluster: a learner to catch
 * up (a replica allows 30 s, and a follower that forwards waits 35 s), a
 * transfer to complete. Longer than that, so the cluster's own answer
 * (TIMEOUT: it may still happen) arrives rather than ours.
 */
export const ADMIN_CALL_TIMEOUT_MS = 40_000;

export interface OutputFlags extends TargetFlags {
  readonly json?: boolean | undefined;
}

/** What a command made of the cluster's answer: the data for `--json`, the text for people. */
export interface CommandResult {
  readonly data: unknown;
  readonly text: string;
  /** Non-zero when the answer itself says the operation did not succeed. */
  readonly exitCode?: ExitCode;
  /** The command wrote its output itself (a stream): nothing more is printed. */
  readonly printed?: boolean;
}

export interface CommandContext {
  readonly client: ClusterClient;
  readonly context: { timeoutMs: number };
}

export async function runClientCommand(
  command: string,
  flags: OutputFlags,
  io: CliIo,
  call: (c: CommandContext) => Promise<CommandResult>,
  timeoutMs = ADMIN_CALL_TIMEOUT_MS,
): Promise<number> {
  const fail = (code: ExitCode, err: unknown): number => {
    if (flags.json) io.out(jsonFailure(command, code, err));
    else io.err(`torua ${err instanceof CliError ? err.message : `${command}: ${describeClientError(err)}`}\n`);
    return code;
  };
  let client: ClusterClient;
  try {
    const target = await resolveTarget(command, flags);
    client = createClusterClient({ coordinators: target.coordinators.map((c) => c.address), maxRetries: 4, backoffMs: 100, ...(target.token === undefined ? {} : { token: target.token }) });
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    return fail(e.exitCode, e);
  }
  try {
    const result = await call({ client, context: { timeoutMs } });
    if (!result.printed) io.out(flags.json ? jsonSuccess(command, result.data) : `${result.text}\n`);
    return result.exitCode ?? EXIT_OK;
  } catch (e) {
    if (e instanceof CliError) return fail(e.exitCode, e);
    return fail(exitCodeOf(e), e);
  }
}

/** An admin command whose answer is one line of text; `--json` gets the answer as `data`. */
export function runAdminCall(
  command: string,
  flags: OutputFlags,
  io: CliIo,
  call: (client: ClusterClient, context: { timeoutMs: number }) => Promise<{ data: unknown; text: string }>,
): Promise<number> {
  return runClientCommand(command, flags, io, ({ client, context }) => call(client, context));
}
