/** The Raft core's refusals in the API's vocabulary (src/raft may not import src/errors). */
import { ClusterError, ClusterErrorCode } from '../errors/index.js';
import { RaftError, RaftErrorCode } from '../raft/index.js';

export function toClusterError(e: unknown, leaderAddress?: (id: string) => string | undefined): unknown {
  if (!(e instanceof RaftError)) return e;
  const leader = e.payload.leader || undefined;
  switch (e.code) {
    case RaftErrorCode.NoLeader:
      return new ClusterError({ code: ClusterErrorCode.NoLeader, ...(e.payload.term !== undefined ? { term: e.payload.term } : {}) }, e.message);
    case RaftErrorCode.NotLeader: {
      const address = leader ? leaderAddress?.(leader) : undefined;
      return new ClusterError(
        { code: ClusterErrorCode.NotLeader, ...(leader ? { leader } : {}), ...(address ? { leaderAddress: address } : {}) },
        e.message,
      );
    }
    case RaftErrorCode.TransferInProgress:
      return new ClusterError({ code: ClusterErrorCode.Unavailable, reason: 'leadership transfer in progress', retryAfterMs: 100 }, e.message);
    case RaftErrorCode.Overloaded:
      return new ClusterError({ code: ClusterErrorCode.Overloaded, retryAfterMs: 50 }, e.message);
    case RaftErrorCode.ConfChangeInProgress:
    case RaftErrorCode.LearnerNotCaughtUp:
      return new ClusterError({ code: ClusterErrorCode.Conflict, reason: e.code }, e.message);
    case RaftErrorCode.InvalidConfChange:
    case RaftErrorCode.InvalidRequest:
      return new ClusterError({ code: ClusterErrorCode.InvalidInput, issues: [e.message] }, e.message);
    default:
      return e;
  }
}
