/**
 * Bugs planted on purpose, outside src/, to prove the system checks catch
 * what they claim to: each replaces an honest part of the simulated world
 * with a broken one a real deployment could have.
 */
import { NONE } from '../../../src/raft/index.js';
import type { DiskBehaviour } from './sim-disk.js';

export const SYSTEM_VARIANTS = ['none', 'lying-fsync', 'lost-vote'] as const;
export type SystemVariant = (typeof SYSTEM_VARIANTS)[number];

/**
 * lying-fsync: the disk answers a synced write without making it durable
 * (a controller cache that lies about fsync): only an unsynced write that
 * follows flushes what came before, so a crash loses entries the replica
 * counted as persisted, voted on and acknowledged.
 * lost-vote: the disk keeps everything but the vote (a store that writes
 * the term and the vote under different keys and loses one), so a restarted
 * replica may vote twice in one term.
 */
export function plantedDisk(variant: Exclude<SystemVariant, 'none'>, honest: DiskBehaviour): DiskBehaviour {
  switch (variant) {
    case 'lying-fsync':
      return lyingFsync(honest);
    case 'lost-vote':
      return {
        latencySteps: honest.latencySteps,
        complete: honest.complete,
        loaded: (state) => ({ ...state, hardState: { ...state.hardState, vote: NONE } }),
      };
  }
}

function lyingFsync(honest: DiskBehaviour): DiskBehaviour {
  let writes = 0;
  return {
    latencySteps: honest.latencySteps,
    complete(store) {
      // The cache reaches the platter every eighth write, whatever was asked.
      if (++writes % 8 === 0) store.sync();
    },
  };
}
