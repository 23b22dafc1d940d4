import type { Entry, MemberId, RawNode } from '../../src/raft/index.js';
import { describeEntry } from './state-machine.js';

export interface Violation {
  readonly property: string;
  readonly tick: number;
  readonly detail: string;
}

interface CommittedEntry {
  readonly term: number;
  readonly desc: string;
  /** Chained hash of the state machine after applying this index. */
  readonly hash: number;
  /** Smallest term of a replica that applied it: the commit happened in this term or earlier. */
  knownAtTerm: number;
}

/**
 * The safety properties of Raft (§5.2–5.4 and Figure 3), checked from
 * outside the code under test after every step of the simulation. Each
 * check is incremental so that thousands of seeds stay cheap.
 */
export class SafetyChecker {
  readonly violations: Violation[] = [];
  /** Election safety: the leader of each term. */
  private readonly leaderOfTerm = new Map<number, MemberId>();
  /** Log matching: (index, term) → description and previous term, as first seen in any log. */
  private readonly logEntries = new Map<string, { desc: string; prevTerm: number | undefined }>();
  /** State machine safety: index → what was applied there. */
  readonly committed = new Map<number, CommittedEntry>();
  /** Acknowledged proposals: command → index it was acknowledged at. */
  readonly acked = new Map<string, number>();
  /** Highest index of any acknowledged write so far (reads must see it). */
  maxAckedIndex = 0;
  now = 0;
  private readonly limit: number;

  constructor(limit = 20) {
    this.limit = limit;
  }

  fail(property: string, detail: string): void {
    if (this.violations.length < this.limit) this.violations.push({ property, tick: this.now, detail });
  }

  /** Election safety: at most one leader per term, ever. Call after every input to a replica. */
  observeRole(id: MemberId, node: RawNode): void {
    if (node.currentRole !== 'leader') return;
    const term = node.currentTerm;
    const known = this.leaderOfTerm.get(term);
    if (known === undefined) {
      this.leaderOfTerm.set(term, id);
      this.checkLeaderCompleteness(id, node);
    } else if (known !== id) {
      this.fail('election safety', `${known} and ${id} are both leaders of term ${term}`);
    }
  }

  /** Log matching: entries a replica appended agree with every other log holding the same (index, term). */
  observeAppended(id: MemberId, node: RawNode, entries: readonly Entry[]): void {
    for (const e of entries) {
      const key = `${e.index}:${e.term}`;
      const desc = describeEntry(e);
      const prevTerm = node.raftLog.term(e.index - 1);
      const seen = this.logEntries.get(key);
      if (!seen) {
        this.logEntries.set(key, { desc, prevTerm });
        continue;
      }
      if (seen.desc !== desc) {
        this.fail('log matching', `${id} holds ${desc} at (${key}) where another log holds ${seen.desc}`);
      } else if (seen.prevTerm !== undefined && prevTerm !== undefined && seen.prevTerm !== prevTerm) {
        this.fail('log matching', `${id} has term ${prevTerm} before (${key}), another log has ${seen.prevTerm}`);
      }
    }
  }

  /**
   * State machine safety: every replica applies the same entry at each
   * index. Also feeds leader completeness with what is now known committed.
   */
  observeApplied(id: MemberId, term: number, e: Entry, hash: number, leaders: Iterable<[MemberId, RawNode]>): void {
    const desc = describeEntry(e);
    const c = this.committed.get(e.index);
    if (!c) {
      this.committed.set(e.index, { term: e.term, desc, hash, knownAtTerm: term });
      for (const [lid, l] of leaders) {
        if (l.currentRole === 'leader' && l.currentTerm > term) this.checkHas(lid, l, e.index, e.term, desc);
      }
      return;
    }
    if (c.term !== e.term || c.desc !== desc || c.hash !== hash) {
      this.fail(
        'state machine safety',
        `${id} applied ${desc} (term ${e.term}) at index ${e.index}, where ${c.desc} (term ${c.term}) was applied before`,
      );
    }
    if (term < c.knownAtTerm) c.knownAtTerm = term;
  }

  /** A replica restored a snapshot: its history must be the committed one. */
  observeSnapshotRestore(id: MemberId, index: number, hash: number): void {
    const c = this.committed.get(index);
    if (c && c.hash !== hash) this.fail('state machine safety', `${id} installed a snapshot at ${index} whose history differs`);
  }

  /** Leader completeness: a new leader holds every entry committed in an earlier term. */
  private checkLeaderCompleteness(id: MemberId, node: RawNode): void {
    const term = node.currentTerm;
    for (const [index, c] of this.committed) {
      if (c.knownAtTerm < term) this.checkHas(id, node, index, c.term, c.desc);
    }
  }

  private checkHas(id: MemberId, node: RawNode, index: number, term: number, desc: string): void {
    const log = node.raftLog;
    if (index <= log.snapshot.meta.index) return; // covered by the snapshot (checked on restore)
    const t = log.term(index);
    if (t !== term) {
      this.fail(
        'leader completeness',
        `leader ${id} of term ${node.currentTerm} lacks committed ${desc} at index ${index} (term ${term}); it has term ${t ?? 'none'}`,
      );
    }
  }

  /** A client learned that its proposal was applied at `index`. */
  observeAck(command: string, index: number): void {
    if (this.acked.has(command)) return;
    this.acked.set(command, index);
    if (index > this.maxAckedIndex) this.maxAckedIndex = index;
  }

  /** Linearizable reads: the index a read waits for covers every write acknowledged before the read began. */
  observeReadIndex(id: MemberId, requestId: string, index: number, minIndex: number): void {
    if (index < minIndex) {
      this.fail('linearizable read', `${id} served read ${requestId} at index ${index}, but a write at ${minIndex} was acknowledged before it began`);
    }
  }

  /**
   * Every acknowledged proposal is still committed at the index it was
   * acknowledged at (every replica's applies at that index were checked
   * against this registry as they happened).
   */
  checkAcknowledged(): void {
    for (const [cmd, index] of this.acked) {
      const c = this.committed.get(index);
      if (c?.desc !== `cmd:${cmd}`) {
        this.fail('acknowledged proposal lost', `${cmd} was acknowledged at index ${index}, which now holds ${c?.desc ?? 'nothing'}`);
      }
    }
  }
}
