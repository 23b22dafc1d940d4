/**
 * The timing of the system simulation and the fault profile each seed draws:
 * how lossy, slow and crash-prone its world is, and how busy its client and
 * operator are. One seed, one profile: a failing seed replays it exactly.
 */
import type { SeededRng } from '../../../src/raft/index.js';

/** One step of simulated time. */
export const STEP_MS = 5;
export const TICK_MS = 10;
export const ELECTION_TICKS = 10;
export const HEARTBEAT_TICKS = 2;
export const DEFAULT_FAULT_MS = 6_000;
/** After healing: a leader, equal tables everywhere and a committed probe within this (100 election timeouts). */
export const DEFAULT_HEAL_MS = 100 * ELECTION_TICKS * TICK_MS;

export interface Profile {
  readonly dropRate: number;
  readonly duplicateRate: number;
  readonly maxDelaySteps: number;
  readonly crashRate: number;
  readonly pauseRate: number;
  readonly partitionRate: number;
  readonly transferRate: number;
  readonly slowDiskRate: number;
  readonly proposeRate: number;
  readonly nodeFaultRate: number;
  /** Some lease answers take up to this much longer on their way back. */
  readonly slowAnswerMs: number;
  readonly readRate: number;
  readonly skewMs: number;
  readonly snapshotEveryEntries: number;
  /** Chance per step of an operator action (drain, maintenance, settings, rebalance…). */
  readonly adminRate: number;
}

export function drawProfile(rng: SeededRng): Profile {
  return {
    dropRate: rng.pick([0, 0.01, 0.05, 0.1]),
    duplicateRate: rng.pick([0, 0.01, 0.05]),
    maxDelaySteps: rng.pick([0, 1, 4, 10]),
    crashRate: rng.pick([0, 0.002, 0.005, 0.01]),
    pauseRate: rng.pick([0, 0.001, 0.003]),
    partitionRate: rng.pick([0, 0.001, 0.004]),
    transferRate: rng.pick([0, 0.001, 0.003]),
    slowDiskRate: rng.pick([0, 0.0005, 0.002]),
    proposeRate: rng.pick([0.01, 0.02, 0.05]),
    nodeFaultRate: rng.pick([0.001, 0.003, 0.01]),
    slowAnswerMs: rng.pick([0, 1_500, 6_000]),
    readRate: rng.pick([0.02, 0.1]),
    skewMs: rng.pick([0, 5, 50]),
    snapshotEveryEntries: rng.pick([5, 20, 1_000]),
    adminRate: rng.pick([0.003, 0.006, 0.012]),
  };
}
