/**
 * One confirmation round (DESIGN.md §5): the leader asks every other voting
 * replica, at once, to probe a node it suspects, and counts the answers
 * (tally.ts). A replica that cannot be asked in time counts for nothing.
 */
import type { HealthMetrics } from '../../observability/index.js';
import type { RoutingState } from '../routing/index.js';
import { withDeadline } from './deadline.js';
import type { ReplicaLink } from './replica-link.js';
import type { Timers } from '../../common/clock.js';
import { tallyVotes, type Tally, type Vote } from './tally.js';

export interface RoundModules {
  readonly replicaLink?: ReplicaLink | undefined;
  readonly metrics?: HealthMetrics | undefined;
  /** A replica's API address by id (the service's apiAddressOf). */
  readonly apiAddressOf: (id: string) => string | undefined;
  readonly timers?: Timers | undefined;
}

export interface RoundRequest {
  readonly self: string;
  readonly nodeId: string;
  readonly address: string;
  /** How long each replica gets to answer: its probe timeout and some slack. */
  readonly timeoutMs: number;
}

/** The voting replicas of the table, by id. */
export function votersOf(state: RoutingState): string[] {
  return Object.values(state.members)
    .filter((m) => m.role === 'voter')
    .map((m) => m.id)
    .sort();
}

async function ask(replica: string, req: RoundRequest, state: RoutingState, modules: RoundModules): Promise<Vote> {
  const link = modules.replicaLink;
  if (link === undefined) return { replica, unanswered: 'this replica has no link to the others' };
  const member = state.members[replica];
  const address = modules.apiAddressOf(replica) ?? (member === undefined ? undefined : `${member.host}:${member.apiPort}`);
  if (address === undefined) return { replica, unanswered: 'its API address is unknown' };
  try {
    const answer = await withDeadline(link.confirm(address, { nodeId: req.nodeId, address: req.address }, req.timeoutMs), req.timeoutMs, `confirmation by ${replica}`, modules.timers);
    modules.metrics?.confirmations.inc({ result: answer.reachable ? 'ok' : 'failed' });
    return { replica, reachable: answer.reachable, error: answer.error };
  } catch (e) {
    return { replica, unanswered: e instanceof Error ? e.message : String(e) };
  }
}

export async function confirmationRound(req: RoundRequest, state: RoutingState, modules: RoundModules): Promise<{ tally: Tally; votes: readonly Vote[] }> {
  const voters = votersOf(state);
  const votes = await Promise.all(voters.filter((id) => id !== req.self).map((id) => ask(id, req, state, modules)));
  return { tally: tallyVotes(req.nodeId, req.self, voters, votes), votes };
}
