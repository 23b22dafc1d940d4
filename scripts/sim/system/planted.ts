/**
 * Bugs planted on purpose, outside src/, to prove the system checks catch
 * what they claim to: each replaces an honest part of the simulated world
 * with a broken one a real deployment could have.
 */
import type { SeededRng } from '../../../src/raft/index.js';
import type { MemoryStorage } from '../../../src/storage/index.js';
import type { DiskBehaviour, DiskWrite } from './sim-disk.js';

export const SYSTEM_VARIANTS = ['none', 'lying-fsync', 'lost-vote'] as const;
export type SystemVariant = (typeof SYSTEM_VARIANTS)[number];

/**
 * lying-fsync: the disk answers a synced write at once but makes it durable
 * only with the next write (a controller cache that lies about fsync), so a
 * crash loses entries the replica counted as persisted and acknowledged.
 * lost-vote: the disk keeps entries but a crash rolls its term and vote back
 * to what they were two writes earlier, so a restarted replica may vote twice
 * in one term.
 */
export function plantedDisk(variant: Exclude<SystemVariant, 'none'>, honest: DiskBehaviour, rng: SeededRng): DiskBehaviour {
  switch (variant) {
    case 'lying-fsync':
      return {
        latencySteps: honest.latencySteps,
        complete(store, w) {
          if (!w.batch.sync) return;
          // Durable only when a later write comes: what this one holds is lost if none does before a crash.
          if (rng.chance(0.5)) store.sync();
        },
      };
    case 'lost-vote':
      return lostVote(honest);
  }
}

function lostVote(honest: DiskBehaviour): DiskBehaviour {
  const history = new WeakMap<MemoryStorage, { term: number; vote: string; commit: number }[]>();
  return {
    latencySteps: honest.latencySteps,
    complete(store: MemoryStorage, w: DiskWrite) {
      honest.complete(store, w);
      const hs = store.loadNow().hardState;
      const h = history.get(store) ?? [];
      h.push({ ...hs });
      if (h.length > 3) h.shift();
      history.set(store, h);
      if (h.length === 3) {
        // What a crash will bring back: the state of two writes ago, with its old vote.
        (store as unknown as { durable: { hardState: unknown } }).durable.hardState = { ...h[0]!, commit: hs.commit };
        h.length = 0;
      }
    },
  };
}
