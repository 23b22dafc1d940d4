/**
 * Polls every coordinator's `/health` in the background and records which
 * leader a majority agrees on, and when: the failover durations come from
 * these observations. Bounded: one poll every `intervalMs`, at most
 * MAX_OBSERVATIONS kept (only changes are kept).
 */
import { sleep } from '../launch/wait-for.js';
import type { ChaosCluster } from './cluster.js';

export interface LeaderObservation {
  /** ms since the run's start. */
  readonly atMs: number;
  /** undefined: no leader agreed by a majority. */
  readonly leader: string | undefined;
  readonly term: number | undefined;
}

const MAX_OBSERVATIONS = 100_000;

export class LeaderMonitor {
  readonly observations: LeaderObservation[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly clock: () => number,
    private readonly intervalMs = 50,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        const found = await this.cluster.leader(300).catch(() => undefined);
        const last = this.observations.at(-1);
        if ((last?.leader !== found?.id || last?.term !== found?.term) && this.observations.length < MAX_OBSERVATIONS) {
          this.observations.push({ atMs: this.clock(), leader: found?.id, term: found?.term });
        }
        await sleep(this.intervalMs);
      }
    })();
  }

  /** The leader last seen (and its term), if any. */
  get current(): LeaderObservation | undefined {
    return this.observations.at(-1);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}
