/**
 * Counting a confirmation round (DESIGN.md §5), pure: the leader and every
 * other voter that saw the node fail confirm; a voter that reached it
 * refutes, and one refutation is enough for no decision (the node is alive,
 * only this leader's path to it is not); a voter that did not answer counts
 * for nothing. A decision needs a strict majority of the voters.
 */
import { majorityOf } from '../routing/index.js';

/** One other replica's answer to "probe this node for me"; `unanswered` when it could not be asked in time. */
export type Vote =
  | { readonly replica: string; readonly reachable: boolean; readonly error?: string | undefined }
  | { readonly replica: string; readonly unanswered: string };

export type Verdict = 'confirmed' | 'refuted' | 'no_majority';

export interface Tally {
  readonly verdict: Verdict;
  /** Replicas that saw the node fail, the leader first (what the failure decision lists). */
  readonly confirmedBy: readonly string[];
  readonly refutedBy: readonly string[];
  readonly unanswered: readonly string[];
  readonly voters: number;
  readonly needed: number;
  /** The round in words, naming the node and the replicas. */
  readonly reason: string;
}

const list = (ids: readonly string[]): string => ids.join(', ');

/**
 * `voters` are the ids of all voting replicas; `self` is counted as
 * confirming when it is one of them (it suspects the node: that is why it asks).
 */
export function tallyVotes(nodeId: string, self: string, voters: readonly string[], votes: readonly Vote[]): Tally {
  const voting = new Set(voters);
  const counted = votes.filter((v) => voting.has(v.replica) && v.replica !== self);
  const confirmedBy = [...(voting.has(self) ? [self] : []), ...counted.filter((v) => 'reachable' in v && !v.reachable).map((v) => v.replica)];
  const refutedBy = counted.filter((v) => 'reachable' in v && v.reachable).map((v) => v.replica);
  const asked = new Set(counted.map((v) => v.replica));
  const unanswered = [...counted.filter((v) => 'unanswered' in v).map((v) => v.replica), ...voters.filter((id) => id !== self && !asked.has(id))];
  const needed = majorityOf(voters.length);
  const base = { confirmedBy, refutedBy, unanswered, voters: voters.length, needed };
  if (refutedBy.length > 0) {
    return { ...base, verdict: 'refuted', reason: `leader ${self} cannot reach ${nodeId}; ${list(refutedBy)} can` };
  }
  if (confirmedBy.length < needed) {
    const silent = unanswered.length === 0 ? '' : `; no answer from ${list(unanswered)}`;
    return { ...base, verdict: 'no_majority', reason: `only ${confirmedBy.length} of ${voters.length} replicas (${list(confirmedBy)}) saw ${nodeId} fail, ${needed} needed${silent}` };
  }
  return { ...base, verdict: 'confirmed', reason: `${list(confirmedBy)} (${confirmedBy.length} of ${voters.length} replicas) saw ${nodeId} fail` };
}
