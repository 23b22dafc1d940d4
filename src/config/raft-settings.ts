import { z } from 'zod';
import { intInRange, strictObject } from './fields.js';

/**
 * Timing and flow control of the coordinators' Raft (the `raft` section).
 *
 * Defaults: a 10 ms tick, heartbeats every 5 ticks (50 ms), an election
 * timeout of 30 ticks (300 ms; each wait is drawn from [300, 600) ms).
 * - No spurious elections on a busy 2-core machine: a follower times out
 *   only after 6 heartbeats in a row went missing. A GC pause, a slow fsync
 *   batch or a loaded event loop stalls a process for tens of milliseconds,
 *   rarely 100; it would take a 250 ms stall of the leader to trigger one.
 *   CheckQuorum uses the same 300 ms, so a leader does not step down for it.
 * - Fast failover where it counts: a crashed leader's connections close at
 *   once and followers start a PreVote in turns from D ticks on, D =
 *   leaderLossDelayTicks (default heartbeatTicks: the first in 50–70 ms,
 *   the second in 90–110 ms), well inside a 150 ms p50 / 300 ms max
 *   failover goal. A hung leader (SIGSTOP)
 *   waits out the election timeout: ~400 ms p50 for the first of two
 *   followers, within the 500 ms goal.
 * - These are the 300 ms / 50 ms timings the coordinator bench runs etcd with for its
 *   comparison, so the bench compares like with like.
 * - A 10 ms tick costs nothing measurable (one timer, a few counters) and
 *   keeps the timer's rounding small against 50 ms heartbeats.
 */
export const raftSettingsSchema = strictObject({
  tickMs: intInRange(1, 1_000).default(10),
  heartbeatTicks: intInRange(1, 1_000).default(5),
  electionTicks: intInRange(2, 10_000).default(30),
  /** Delay D before a PreVote once the leader's connection closed; the core's default (heartbeatTicks) when absent. */
  leaderLossDelayTicks: intInRange(1, 10_000).optional(),
  /**
   * A state-machine snapshot (and log compaction) every this many applied
   * entries: the routing table is small, so a snapshot is cheap, and 10,000
   * entries of a few hundred bytes keep restarts and catch-up quick.
   */
  snapshotEveryEntries: intInRange(1, 10_000_000).default(10_000),
  /** Appends in flight per follower (flow-control window); etcd's and the core's default. */
  maxInflightMsgs: intInRange(1, 65_536).default(256),
  /** Entry bytes per append message (one entry always fits); 1 MiB like etcd. */
  maxSizePerMsgBytes: intInRange(1_024, 64 * 1024 * 1024).default(1024 * 1024),
}).superRefine((r, ctx) => {
  if (r.heartbeatTicks >= r.electionTicks) {
    ctx.addIssue({
      code: 'custom',
      path: ['heartbeatTicks'],
      input: r.heartbeatTicks,
      message: `expected fewer ticks than electionTicks (${r.electionTicks})`,
      params: { why: 'followers must hear several heartbeats per election timeout' },
    });
  }
  if (r.leaderLossDelayTicks !== undefined && r.leaderLossDelayTicks >= r.electionTicks) {
    ctx.addIssue({
      code: 'custom',
      path: ['leaderLossDelayTicks'],
      input: r.leaderLossDelayTicks,
      message: `expected fewer ticks than electionTicks (${r.electionTicks})`,
      params: { why: 'the leader-loss fast path must beat the election timeout' },
    });
  }
});

export type RaftSettings = z.infer<typeof raftSettingsSchema>;
