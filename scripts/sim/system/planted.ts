/**
 * Bugs planted on purpose, outside src/, to prove the system checks catch
 * what they claim to: each replaces an honest part of the simulated world
 * with a broken one a real deployment could have.
 */
import { newFencer, type FencingFactory } from '../../../src/coordinator/placement-driver/index.js';
import type { CoordinatorService } from '../../../src/coordinator/service.js';
import type { DiskBehaviour } from './sim-disk.js';

export const SYSTEM_VARIANTS = ['none', 'lying-fsync', 'mismatched-table', 'blind-confirm', 'lease-from-receipt', 'promotion-without-lease', 'early-in-sync-answer', 'join-before-fill', 'join-unknown-outcome'] as const;
export type SystemVariant = (typeof SYSTEM_VARIANTS)[number];

/**
 * lying-fsync: the disk answers a synced write without making it durable
 * (a controller cache that lies about fsync): only an unsynced write that
 * follows flushes what came before, so a crash loses entries the replica
 * counted as persisted, voted on and acknowledged.
 */
export function plantedDisk(variant: 'lying-fsync', honest: DiskBehaviour): DiskBehaviour {
  switch (variant) {
    case 'lying-fsync':
      return lyingFsync(honest);
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

/**
 * mismatched-table: one replica builds its table before the first entry from
 * a cluster file that differs (this many more shards), so replaying the same
 * log gives it another table: what "tables agree at equal applied index" is for.
 */
export const MISMATCHED_SHARDS = 8;

/**
 * blind-confirm: a replica asked to confirm a failure answers "unreachable"
 * without probing the node itself (a confirmation handler that echoes the
 * leader's view), so a node cut from the leader alone is declared failed
 * while every other replica still reaches it.
 */
export const blindConfirm = { reachable: false, error: 'not probed (planted bug)' } as const;

/*
 * lease-from-receipt (in node-leases.ts): a data node counts its lease from
 * when the answer arrived instead of from when it sent the renewal, so a slow
 * answer stretches it past what the leader fenced.
 */

/**
 * promotion-without-lease: the fencing rule takes a primary that neither
 * handed off nor let its lease run out as fenced anyway (it still stops
 * granting it leases, as the real rule does once fenced), so a backup is
 * promoted while the old primary may still serve writes on its lease.
 */
export const fencingWithoutLease: FencingFactory = (opts, modules) => {
  const honest = newFencer(opts, modules);
  return {
    async fence(state, nodeId, shardId, epoch) {
      const r = await honest.fence(state, nodeId, shardId, epoch);
      if (r.fenced) return r;
      modules.leases.markDemoting(nodeId, shardId, epoch);
      return { fenced: true, how: `promoted without waiting for the lease of ${nodeId} (planted bug)`, caughtUp: false };
    },
    release: (nodeId, shardId, epoch) => honest.release(nodeId, shardId, epoch),
  };
};

/**
 * early-in-sync-answer: the leader answers a primary's request to take a
 * copy out of the in-sync set as soon as it is proposed, not once it
 * commits; the primary then acknowledges writes the copy lacks while the
 * committed table still counts it in sync (and a lost proposal never
 * removes it), so a later promotion of that copy would lose them.
 */
export function earlyInSyncAnswer(service: CoordinatorService): CoordinatorService {
  return {
    ...service,
    propose(cmd, timeoutMs) {
      if (cmd.type !== 'setInSync' || cmd.inSync) return service.propose(cmd, timeoutMs);
      service.propose(cmd, timeoutMs).catch(() => undefined);
      return Promise.resolve({ ok: true, index: service.status().commitIndex, changed: true });
    },
  };
}

/*
 * join-before-fill (in node-writes.ts): a primary finishing a recovery asks
 * for the copy to join the in-sync set without having filled it (a finish
 * that does not wait for the copy to acknowledge the primary's last write),
 * so the committed table counts in sync a copy that lacks acknowledged writes.
 */

/*
 * join-unknown-outcome (in node-writes.ts): a primary whose request to add a
 * caught-up copy to the in-sync set failed without a definite answer (the
 * leader stepped down, the call timed out) resumes acknowledging writes
 * without that copy, though the change may still commit: the committed table
 * then counts in sync a copy that lacks them. The real primary settles the
 * outcome first (its client repeats the compare-and-set on another replica,
 * and a STALE_EPOCH answer makes it renew and read the new record), as the
 * honest model does by holding the shard's writes until it knows.
 */
