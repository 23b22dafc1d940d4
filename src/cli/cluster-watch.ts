/**
 * What `torua cluster up` reports while it runs: one line per change seen
 * between two rounds of health probes (a replica up or down, a leader
 * elected, changed or lost), nothing while nothing changes. Pure: the
 * command feeds it probes and prints what comes back.
 */
import { leaderOf, type ReplicaProbe } from '../client/index.js';

export interface WatchState {
  /** By replica id: whether it answered, and how many probes in a row it did not. */
  readonly replicas: ReadonlyMap<string, { readonly up: boolean; readonly misses: number }>;
  readonly leader: { readonly id: string; readonly term: number } | undefined;
  /** The leader before the current one, across a spell without any: a failover reads "changed", not "elected". */
  readonly lastLeader: { readonly id: string; readonly term: number } | undefined;
}

export const initialWatchState: WatchState = { replicas: new Map(), leader: undefined, lastLeader: undefined };

/**
 * Probes of a loaded machine time out now and then; a replica is reported
 * down only after this many misses in a row (a process that exits is
 * reported at once, by the process watcher).
 */
export const MISSES_BEFORE_DOWN = 2;

/** `probes[i]` is of the replica `ids[i]`. */
export function watchStep(prev: WatchState, ids: readonly string[], probes: readonly ReplicaProbe[]): { state: WatchState; lines: string[] } {
  const lines: string[] = [];
  const replicas = new Map(prev.replicas);
  probes.forEach((p, i) => {
    const id = ids[i] ?? p.address;
    const before = prev.replicas.get(id);
    if (p.ok) {
      if (before === undefined || !before.up) lines.push(`${id} up (${p.health.role}, term ${p.health.term})`);
      replicas.set(id, { up: true, misses: 0 });
      return;
    }
    const misses = (before?.misses ?? 0) + 1;
    const wasUp = before?.up === true;
    const down = wasUp && misses >= MISSES_BEFORE_DOWN;
    if (down) lines.push(`${id} down (${p.error})`);
    replicas.set(id, { up: wasUp && !down, misses });
  });

  const found = leaderOf(probes);
  const leader = found === undefined ? undefined : { id: found.id, term: found.term };
  const was = prev.leader ?? prev.lastLeader;
  const same = leader !== undefined && was !== undefined && leader.id === was.id && leader.term === was.term;
  if (leader !== undefined && was === undefined) lines.push(`leader elected: ${leader.id} (term ${leader.term})`);
  else if (leader !== undefined && was !== undefined && !same) {
    lines.push(leader.id === was.id ? `leader ${leader.id} re-elected (term ${was.term} → ${leader.term})` : `leader changed: ${was.id} → ${leader.id} (term ${leader.term})`);
  } else if (leader === undefined && prev.leader !== undefined) lines.push(`no leader (was ${prev.leader.id}, term ${prev.leader.term}): election running`);
  return { state: { replicas, leader, lastLeader: leader ?? prev.leader ?? prev.lastLeader }, lines };
}
