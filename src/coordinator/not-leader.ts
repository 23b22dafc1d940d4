/** The refusal of something only the leader does, as the API forwards it (NOT_LEADER with the leader) or retries it (NO_LEADER). */
import { ClusterError, ClusterErrorCode } from '../errors/index.js';

export interface LeaderView {
  /** '' when no leader is known. */
  readonly leader: string;
  readonly term: number;
}

/** `what` runs on the leader, says the message: e.g. `membership changes`, `lease renewals`. */
export function notLeaderError(view: LeaderView, what: string, leaderAddress?: string): ClusterError {
  if (!view.leader) return new ClusterError({ code: ClusterErrorCode.NoLeader, term: view.term }, 'no leader is known; retry shortly');
  return new ClusterError(
    { code: ClusterErrorCode.NotLeader, leader: view.leader, ...(leaderAddress ? { leaderAddress } : {}), term: view.term },
    `${what} run on the leader ${view.leader}${leaderAddress ? ` (${leaderAddress})` : ''}`,
  );
}
