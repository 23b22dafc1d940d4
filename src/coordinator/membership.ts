/**
 * Adding and removing coordinator replicas, on the leader: a new member is
 * added as a learner, filled from a snapshot, and promoted once caught up;
 * each change is proposed (retried while another is in flight) and waited
 * for until it applies here.
 */
import { ClusterError, ClusterErrorCode } from '../errors/index.js';
import type { Logger } from '../observability/index.js';
import type { RawNode } from '../raft/index.js';
import { encodeMemberContext, type RoutingState } from './routing/index.js';
import { sleepOn, type Clock, type Timers } from '../common/clock.js';
import type { Outbox } from './outbox.js';
import { toClusterError } from './raft-errors.js';
import type { ReadyLoop } from './ready-loop.js';
import type { NewMember } from './service.js';

/** A snapshot for a new member waits at most this many Ready cycles for the core to count what was answered early. */
const MAX_ADVANCE_WAITS = 10;
/** Between two proposals of a change refused because another is in flight. */
const CONFLICT_RETRY_MS = 20;
/** How long removing a learner that was not promoted may take (a membership change of an idle cluster takes milliseconds). */
const DROP_LEARNER_TIMEOUT_MS = 5_000;

interface EntryWaiter {
  readonly term: number;
  readonly resolve: (sameEntry: boolean) => void;
}

export interface MembershipModules {
  readonly replicaId: string;
  readonly raft: RawNode;
  readonly loop: ReadyLoop;
  readonly outbox: Outbox;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
  /** The replica's table and applied index as they are now. */
  readonly applied: () => { readonly state: RoutingState; readonly appliedIndex: number };
  /** Compacts the log at the applied index (a snapshot of the table). */
  readonly compact: () => void;
  /** Throws NOT_LEADER (or UNAVAILABLE when closed) unless this replica leads. */
  readonly checkLeader: () => void;
  readonly closed: () => boolean;
  readonly apiAddressOf: (id: string) => string | undefined;
}

/** `by` in a change's context only when someone authenticated: such entries read the same on every version. */
function actor(by: string | undefined): { by?: string } {
  return by === undefined ? {} : { by };
}

export class Membership {
  private readonly entryWaiters = new Map<number, EntryWaiter[]>();

  constructor(private readonly modules: MembershipModules) {}

  async addMember(member: NewMember, timeoutMs: number, by?: string): Promise<void> {
    const m = this.modules;
    m.checkLeader();
    const deadline = m.clock.nowMs() + timeoutMs;
    await this.compactForNewMember();
    const context = encodeMemberContext({ atMs: m.clock.nowMs(), host: member.host, apiPort: member.apiPort, peerPort: member.peerPort, ...actor(by) });
    // Talk to it from the moment it is a learner, not only once the change commits.
    const peers = new Map<string, { host: string; peerPort: number }>();
    for (const p of Object.values(m.applied().state.members)) if (p.id !== m.replicaId) peers.set(p.id, { host: p.host, peerPort: p.peerPort });
    peers.set(member.id, { host: member.host, peerPort: member.peerPort });
    m.outbox.setPeers(peers);
    await this.change({ type: 'addLearner', node: member.id, context }, deadline);
    m.logger.info('learner added; waiting for it to catch up', { member: member.id });
    try {
      await this.change({ type: 'promote', node: member.id, context }, deadline);
    } catch (e) {
      await this.dropLearner(member.id, e, by);
      throw e;
    }
    m.logger.info('learner promoted to voter', { member: member.id });
  }

  /**
   * A learner that did not catch up in time (or whose promotion failed) is
   * removed again, so a failed `members.add` leaves the membership as it was
   * rather than a learner the operator did not get. Best effort: on a lost
   * leadership the new leader's table still lists it, and `members.remove`
   * takes it out.
   */
  private async dropLearner(id: string, why: unknown, by: string | undefined): Promise<void> {
    const m = this.modules;
    if (m.applied().state.members[id]?.role !== 'learner') return;
    try {
      await this.change({ type: 'remove', node: id, context: encodeMemberContext({ atMs: m.clock.nowMs(), ...actor(by) }) }, m.clock.nowMs() + DROP_LEARNER_TIMEOUT_MS);
      m.logger.warn('learner removed again: it was not promoted', { member: id, error: String(why) });
    } catch (e) {
      m.logger.warn('could not remove a learner that was not promoted', { member: id, error: String(e) });
    }
  }

  async removeMember(id: string, timeoutMs: number, by?: string): Promise<void> {
    const m = this.modules;
    m.checkLeader();
    const context = encodeMemberContext({ atMs: m.clock.nowMs(), ...actor(by) });
    await this.change({ type: 'remove', node: id, context }, m.clock.nowMs() + timeoutMs);
    m.logger.info('member removed', { member: id });
  }

  /** Entry `index` of `term` applied here: whoever waits for it learns whether it was their entry. */
  entryApplied(index: number, term: number): void {
    const waiters = this.entryWaiters.get(index);
    if (!waiters) return;
    this.entryWaiters.delete(index);
    for (const w of waiters) w.resolve(w.term === term);
  }

  /**
   * A new member starts with an empty log. It must be filled from a snapshot
   * of this table, never by replaying the log from index 1 over an initial
   * table of its own: that one comes from its own cluster file, which lists
   * the coordinators it is meant to join (not the bootstrap ones) and may
   * differ in settings, so its state would diverge. Compacting up to the
   * applied index first leaves the leader nothing older to send but a snapshot.
   */
  private async compactForNewMember(): Promise<void> {
    const m = this.modules;
    const appliedIndex = (): number => m.applied().appliedIndex;
    if (appliedIndex() === 0) {
      throw new ClusterError(
        { code: ClusterErrorCode.Unavailable, reason: 'the leader has not applied its first entry yet', retryAfterMs: 100 },
        'the new leader has not applied its first entry yet; retry shortly',
      );
    }
    // Entries answered early (before their Ready's own write completed) count as applied in the core only
    // once that Ready is advanced; the snapshot must be taken at an index both agree on.
    for (let i = 0; i < MAX_ADVANCE_WAITS && m.loop.busy && !m.closed() && m.raft.raftLog.applied < appliedIndex(); i++) {
      await m.loop.nextAdvance();
    }
    if (m.raft.raftLog.applied < appliedIndex()) {
      throw new ClusterError({ code: ClusterErrorCode.Unavailable, reason: 'the log store is busy', retryAfterMs: 100 }, 'could not take a snapshot for the new member now; retry shortly');
    }
    if (appliedIndex() <= m.raft.raftLog.snapshot.meta.index) return;
    m.compact();
    m.logger.info('snapshot taken for a new member', { index: appliedIndex() });
  }

  /** Proposes one membership change (retrying while another is in flight or the learner lags) and waits for it to apply. */
  private async change(change: { type: 'addLearner' | 'promote' | 'remove'; node: string; context: string }, deadlineMs: number): Promise<void> {
    const m = this.modules;
    for (;;) {
      m.checkLeader();
      let index: number;
      try {
        index = m.raft.proposeMembershipChange(change);
      } catch (e) {
        const mapped = toClusterError(e, m.apiAddressOf);
        const retry = mapped instanceof ClusterError && mapped.code === ClusterErrorCode.Conflict && m.clock.nowMs() < deadlineMs;
        if (!retry) throw mapped;
        await sleepOn(m.timers, CONFLICT_RETRY_MS);
        continue;
      }
      const term = m.raft.currentTerm;
      m.loop.kick();
      const applied = await this.waitForEntry(index, term, deadlineMs);
      if (applied) return;
      throw new ClusterError({ code: ClusterErrorCode.Conflict, reason: 'leadership changed' }, `${change.type} ${change.node} was lost in a leader change; retry`);
    }
  }

  private waitForEntry(index: number, term: number, deadlineMs: number): Promise<boolean> {
    const m = this.modules;
    if (index <= m.applied().appliedIndex) return Promise.resolve(true);
    const timeoutMs = Math.max(0, deadlineMs - m.clock.nowMs());
    return new Promise<boolean>((resolve, reject) => {
      const timer = m.timers.after(timeoutMs, () => {
        reject(new ClusterError({ code: ClusterErrorCode.Timeout, operation: 'membership change', timeoutMs }, 'membership change not committed in time'));
      });
      const list = this.entryWaiters.get(index) ?? [];
      list.push({
        term,
        resolve: (same) => {
          timer.cancel();
          resolve(same);
        },
      });
      this.entryWaiters.set(index, list);
    });
  }
}
