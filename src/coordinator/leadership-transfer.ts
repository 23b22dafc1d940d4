/** Hands the leadership to another voter and waits until it has taken over. */
import { ClusterError, ClusterErrorCode } from '../errors/index.js';
import type { RawNode } from '../raft/index.js';
import type { Timers } from '../common/clock.js';
import { toClusterError } from './raft-errors.js';

export interface LeadershipTransferModules {
  readonly raft: RawNode;
  readonly timers: Timers;
  readonly kick: () => void;
  readonly apiAddressOf: (id: string) => string | undefined;
}

export class LeadershipTransfer {
  private readonly leaderWaiters = new Set<() => void>();

  constructor(private readonly modules: LeadershipTransferModules) {}

  async transfer(to: string, timeoutMs: number): Promise<void> {
    const { raft, timers } = this.modules;
    if (raft.currentLeader === to) return;
    // The leader refuses a target that is not a voter; a follower forwards the request, which the
    // leader then drops silently: refuse it here too rather than time out.
    if (!raft.status().conf.voters.includes(to)) {
      throw new ClusterError({ code: ClusterErrorCode.InvalidInput, issues: [`to: ${to} is not a voter`] }, `cannot transfer leadership to ${to}: not a voter`);
    }
    try {
      raft.transferLeadership(to);
    } catch (e) {
      throw toClusterError(e, this.modules.apiAddressOf);
    }
    this.modules.kick();
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (raft.currentLeader === to) {
          this.leaderWaiters.delete(check);
          timer.cancel();
          resolve();
        }
      };
      const timer = timers.after(timeoutMs, () => {
        this.leaderWaiters.delete(check);
        reject(new ClusterError({ code: ClusterErrorCode.Timeout, operation: 'leadership transfer', timeoutMs }, `${to} did not take over within ${timeoutMs} ms`));
      });
      this.leaderWaiters.add(check);
    });
  }

  /** The leader changed: a transfer waiting for its target learns whether it took over. */
  leaderChanged(): void {
    for (const w of [...this.leaderWaiters]) w();
  }
}
