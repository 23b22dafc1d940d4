/**
 * A command the routing table refused, as the error a client gets. The
 * table's reject codes are finer than the public vocabulary; the prefix says
 * the kind: INVALID_* is the request's fault (400), UNKNOWN_* names
 * something absent (404), STALE_* a compare-and-set that lost (409), and the
 * rest contradict the current state (409 CONFLICT), with the table's code
 * kept in `reason` so a program can still tell them apart.
 */
import { ClusterError, ClusterErrorCode } from '../../../errors/index.js';

export interface Rejected {
  readonly code: string;
  readonly message: string;
}

/** What the refused command was about, for the fields of the answer. */
export interface RejectedSubject {
  readonly node?: string;
  readonly shard?: number;
  readonly member?: string;
  /** For a shard command refused as STALE_EPOCH: the epoch it expected and the one the table holds now. */
  readonly epochs?: { readonly expected: number; readonly current: number };
}

function notFound(code: string, message: string, about: RejectedSubject): ClusterError {
  if (code === 'UNKNOWN_SHARD') {
    return new ClusterError({ code: ClusterErrorCode.NotFound, resource: 'shard', ...(about.shard !== undefined ? { id: String(about.shard) } : {}) }, message);
  }
  if (code === 'UNKNOWN_MEMBER') {
    return new ClusterError({ code: ClusterErrorCode.NotFound, resource: 'member', ...(about.member !== undefined ? { id: about.member } : {}) }, message);
  }
  // UNKNOWN_NODE of a shard command names one of several nodes: the message says which.
  const id = about.shard === undefined ? about.node : undefined;
  return new ClusterError({ code: ClusterErrorCode.NotFound, resource: 'node', ...(id !== undefined ? { id } : {}) }, message);
}

export function rejectionError(rejected: Rejected, about: RejectedSubject = {}): ClusterError {
  const { code, message } = rejected;
  if (code === 'STALE_EPOCH' && about.shard !== undefined && about.epochs !== undefined) {
    return new ClusterError(
      { code: ClusterErrorCode.StaleEpoch, shard: about.shard, expectedEpoch: about.epochs.expected, currentEpoch: about.epochs.current },
      message,
    );
  }
  if (code.startsWith('STALE_')) return new ClusterError({ code: ClusterErrorCode.Conflict, reason: code }, message);
  if (code.startsWith('UNKNOWN_')) return notFound(code, message, about);
  if (code.startsWith('INVALID_')) return new ClusterError({ code: ClusterErrorCode.InvalidInput, issues: [message] }, message);
  // A bug in apply is not the client's conflict: every replica hit it, and the log has the details.
  if (code === 'INTERNAL') return new ClusterError({ code: ClusterErrorCode.Internal }, message);
  return new ClusterError({ code: ClusterErrorCode.Conflict, reason: code }, message);
}
