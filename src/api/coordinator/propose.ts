/** Every write of the API: one routing-table command, proposed once, its refusal turned into the fitting error. */
import type { Command } from '../../coordinator/routing/index.js';
import type { CommandOutcome } from '../../coordinator/service.js';
import { actorOf } from '../auth/index.js';
import type { ApiContext } from './context.js';
import { rejectionError, type RejectedSubject } from './errors/rejection.js';

export type Accepted = Extract<CommandOutcome, { ok: true }>;

/**
 * The fields every command carries. `atMs` is 0 on purpose: apply may not
 * read a clock, so time is stamped into the command by the replica when it
 * proposes and again by the leader before the entry enters the log
 * (replica.ts); whatever the API put here never reaches the table.
 */
export function commandBase(reason: string): { atMs: number; reason: string } {
  return { atMs: 0, reason };
}

/**
 * One command is one log entry, applied whole or not at all: an operation
 * never proposes two, so no request can leave a change half made.
 */
export async function proposeCommand(ctx: ApiContext, command: Command, about: RejectedSubject = {}): Promise<Accepted> {
  const outcome = await ctx.service.propose(withActor(ctx, command));
  if (outcome.ok) return outcome;
  throw rejectionError(outcome, about);
}

/** The command with `by`, who asked, when the request authenticated (the event it causes names them). */
export function withActor<C extends Command>(ctx: ApiContext, command: C): C {
  const by = actorOf(ctx.auth);
  return by === undefined ? command : { ...command, by };
}
