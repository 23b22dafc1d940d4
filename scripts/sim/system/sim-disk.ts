import type { InitialState } from '../../../src/raft/index.js';
import { MemoryStorage, type PersistBatch, type RaftStorage } from '../../../src/storage/index.js';

/** A write handed to the simulated disk, completed by the world when its time comes. */
export interface DiskWrite {
  readonly owner: string;
  readonly incarnation: number;
  readonly dueStep: number;
  readonly batch: PersistBatch;
  readonly done: () => void;
}

/** How a disk behaves; the planted bugs replace the honest one. */
export interface DiskBehaviour {
  /** Steps from a write to its completion (a slow disk: more). */
  latencySteps(): number;
  /** Called when a write completes: an honest disk makes a synced batch durable before it answers. */
  complete(store: MemoryStorage, w: DiskWrite): void;
}

export const honestDisk = (latencySteps: () => number): DiskBehaviour => ({
  latencySteps,
  complete(store, w) {
    if (w.batch.sync) store.sync();
  },
});

/**
 * One replica's disk: a MemoryStorage (unsynced writes lost by a crash)
 * whose writes complete when the world says, so a write can be in flight
 * while messages arrive, and a crash can land between write and sync.
 */
export class SimDisk implements RaftStorage {
  constructor(
    readonly store: MemoryStorage,
    private readonly owner: string,
    private readonly incarnation: number,
    private readonly world: { readonly step: number; enqueueWrite(w: DiskWrite): void },
    private readonly behaviour: DiskBehaviour,
  ) {}

  async load(): Promise<InitialState> {
    return this.store.loadNow();
  }

  persist(batch: PersistBatch): Promise<void> {
    this.store.write(batch);
    return new Promise<void>((resolve) => {
      this.world.enqueueWrite({
        owner: this.owner,
        incarnation: this.incarnation,
        dueStep: this.world.step + this.behaviour.latencySteps(),
        batch,
        done: () => {
          this.behaviour.complete(this.store, { owner: this.owner, incarnation: this.incarnation, dueStep: 0, batch, done: resolve });
          resolve();
        },
      });
    });
  }

  async close(): Promise<void> {
    // nothing to release
  }
}
