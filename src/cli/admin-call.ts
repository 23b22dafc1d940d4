/** One admin call through the client, printed as `torua <command>: …` with the error's code when it fails. */
import { createClusterClient, describeClientError, type ClusterClient } from '../client/index.js';
import { CliError } from './cli-error.js';
import { resolveTarget, type TargetFlags } from './cluster-target.js';
import type { CliIo } from './run.js';

/**
 * Membership changes and transfers wait for the cluster: a learner to catch
 * up (a replica allows 30 s, and a follower that forwards waits 35 s), a
 * transfer to complete. Longer than that, so the cluster's own answer
 * (TIMEOUT: it may still happen) arrives rather than ours.
 */
export const ADMIN_CALL_TIMEOUT_MS = 40_000;

export async function runAdminCall(
  command: string,
  flags: TargetFlags,
  io: CliIo,
  call: (client: ClusterClient, context: { timeoutMs: number }) => Promise<string>,
): Promise<number> {
  let client: ClusterClient;
  try {
    const target = await resolveTarget(command, flags);
    client = createClusterClient({ coordinators: target.coordinators.map((c) => c.address), maxRetries: 4, backoffMs: 100 });
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    io.err(`torua ${e.message}\n`);
    return e.exitCode;
  }
  try {
    io.out(`${await call(client, { timeoutMs: ADMIN_CALL_TIMEOUT_MS })}\n`);
    return 0;
  } catch (e) {
    io.err(`torua ${command}: ${describeClientError(e)}\n`);
    return 1;
  }
}
