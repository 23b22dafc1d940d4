import { NONE, RawNode, type HardState, type RaftModules, type RaftOptions } from '../../src/raft/index.js';

/**
 * Deliberately broken cores, each missing one rule the Raft paper needs.
 * They exist only to prove that the simulation's checkers have teeth; they
 * live outside src/ and nothing in production configuration can reach them.
 */

/** The vote lives in memory only: a crash forgets it, so the replica can vote twice in a term. */
class VoteNotPersisted extends RawNode {
  protected override hardStateToPersist(): HardState {
    const hs = super.hardStateToPersist();
    return { ...hs, vote: NONE };
  }
}

/** Commits an entry of an earlier term by counting replicas (Figure 8 of the paper). */
class CommitsEarlierTermByCounting extends RawNode {
  protected override canCommitByCounting(index: number): boolean {
    return this.log.term(index) !== undefined;
  }
}

/** Grants votes without the "at least as up to date" check of §5.4.1. */
class SkipsUpToDateCheck extends RawNode {
  protected override candidateLogOk(): boolean {
    return true;
  }
}

export type Variant = 'correct' | 'vote-not-persisted' | 'commit-by-counting' | 'no-up-to-date-check';

type NodeClass = new (opts: RaftOptions, modules: RaftModules) => RawNode;

export const brokenVariants: Record<Variant, NodeClass> = {
  correct: RawNode,
  'vote-not-persisted': VoteNotPersisted,
  'commit-by-counting': CommitsEarlierTermByCounting,
  'no-up-to-date-check': SkipsUpToDateCheck,
};

export const VARIANTS = Object.keys(brokenVariants) as Variant[];
