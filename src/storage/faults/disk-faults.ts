import type { Logger } from '../../observability/index.js';
import { SeededRng, type Rng } from '../../raft/index.js';
import type { SyncedWriteHook } from '../level-raft-storage.js';
import type { FaultSettings } from './fault-settings.js';

/** The exit code of an injected crash after a persist (before apply, and before a follower's send): a supervisor (or test) can tell it from a real failure. */
export const FAULT_CRASH_EXIT_CODE = 86;

/** What happens to one synced write. */
export interface SyncFault {
  /** The write is refused before anything reaches the disk. */
  readonly fail: boolean;
  /** The write completes this much later than the disk finished it. */
  readonly delayMs: number;
}

/** A Ready batch just persisted, before it is applied (a follower's messages not sent yet; a leader's left while it was written). */
export interface PersistedBatch {
  readonly synced: boolean;
  readonly messages: number;
}

export interface DiskFaultsModules {
  readonly logger: Logger;
  /** Ends the process at once, as a power cut would; never returns in production. */
  readonly crash: () => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface InjectedCounts {
  failedSyncs: number;
  delayedSyncs: number;
  crashes: number;
}

const NO_FAULT: SyncFault = { fail: false, delayMs: 0 };

/**
 * The seeded decisions of TORUA_FAULTS and the two hooks that act on them:
 * `syncedWrite` (around each synced LevelDB batch) and `afterPersist`
 * (between a Ready's persist and its send).
 *
 * Syncs and crashes draw from two streams of the seed, and every decision
 * draws the same amount whatever it decides or whoever leads: the n-th
 * synced write meets the same fault in every run with that seed.
 */
export class DiskFaults {
  readonly injected: InjectedCounts = { failedSyncs: 0, delayedSyncs: 0, crashes: 0 };
  private leading = false;
  private readonly syncRng: Rng;
  private readonly crashRng: Rng;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    readonly settings: FaultSettings,
    private readonly modules: DiskFaultsModules,
  ) {
    const root = new SeededRng(settings.seed);
    this.syncRng = root.fork();
    this.crashRng = root.fork();
    this.sleep = modules.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** The replica's role changed (faults with `onlyWhenLeader` follow it). */
  setLeading(leading: boolean): void {
    this.leading = leading;
  }

  /** The warning a process with faults on must log at start. */
  warning(): string {
    const s = this.settings;
    const [min, max] = s.syncDelayMs;
    return (
      `DISK FAULT INJECTION IS ON (TORUA_FAULTS): synced writes fail at rate ${s.syncFailRate}, ` +
      `are delayed ${min}-${max} ms at rate ${s.syncDelayRate}, the process exits (code ${FAULT_CRASH_EXIT_CODE}) after a persist, before its apply (and a follower's send), at rate ` +
      `${s.crashBetweenPersistAndSendRate}${s.onlyWhenLeader ? ', only while leader' : ''}; seed ${s.seed}. NEVER SET THIS IN PRODUCTION`
    );
  }

  /** The fault of the next synced write. */
  nextSync(): SyncFault {
    const failDraw = this.syncRng.float();
    const delayDraw = this.syncRng.float();
    const [min, max] = this.settings.syncDelayMs;
    const delayMs = min + this.syncRng.int(max - min + 1);
    if (!this.active()) return NO_FAULT;
    if (failDraw < this.settings.syncFailRate) return { fail: true, delayMs: 0 };
    return delayDraw < this.settings.syncDelayRate ? { fail: false, delayMs } : NO_FAULT;
  }

  /** Whether to exit after the next persisted batch that has messages to send. */
  nextCrash(): boolean {
    const draw = this.crashRng.float();
    return this.active() && draw < this.settings.crashBetweenPersistAndSendRate;
  }

  /** For LevelRaftStorage: a failure is thrown before the write, so nothing of the batch is on disk. */
  readonly syncedWrite: SyncedWriteHook = async (write) => {
    const fault = this.nextSync();
    if (fault.fail) {
      this.injected.failedSyncs++;
      this.modules.logger.warn('DISK FAULT: failing a synced write (nothing written)', { failedSyncs: this.injected.failedSyncs });
      throw new Error('injected sync failure (TORUA_FAULTS syncFailRate)');
    }
    await write();
    if (fault.delayMs > 0) {
      this.injected.delayedSyncs++;
      await this.sleep(fault.delayMs);
    }
  };

  /** For the replica: a power cut after the batch is durable, before anything of it is applied (and before a follower sends its messages). */
  readonly afterPersist = (batch: PersistedBatch): void => {
    if (!batch.synced || batch.messages === 0 || !this.nextCrash()) return;
    this.injected.crashes++;
    this.modules.logger.error('DISK FAULT: exiting between persisting a batch and applying it', {
      messages: batch.messages,
      exitCode: FAULT_CRASH_EXIT_CODE,
    });
    this.modules.crash();
  };

  private active(): boolean {
    return !this.settings.onlyWhenLeader || this.leading;
  }
}
