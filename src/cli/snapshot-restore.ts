/**
 * `torua snapshot restore FILE --config F [--id ID] [--data-dir DIR]`: seeds
 * a new coordinator quorum from a file of `torua snapshot save`, for when
 * every coordinator's data is lost. Each replica's empty data directory gets
 * a Raft store holding the table as its snapshot, at the index it was taken
 * at, with the voters of the cluster file; the replicas are then started as
 * usual. Without --id every coordinator of the file is seeded (one host);
 * on separate hosts each runs it with its own --id. --data-dir overrides the
 * file's base directory, as for `torua coordinator`. The table is marked as recovering (routing/restore-commands.ts): no
 * lease, placement or failover until the leader has heard what the data
 * nodes hold, so a snapshot older than the last shard move loses nothing.
 *
 * Checked before anything is written, all or nothing: the file's hash, shape
 * and invariants, the cluster id and shard count against the cluster file,
 * and that every target directory is absent or empty.
 */
import { readdir, readFile } from 'node:fs/promises';
import { loadClusterFile, resolveCoordinator, type ClusterFile, type CoordinatorView } from '../config/index.js';
import { deserializeState, serializeState, stateHash, SNAPSHOT_FORMAT, SNAPSHOT_VERSION, type MemberRecord, type RoutingState } from '../coordinator/routing/index.js';
import { LevelRaftStorage } from '../storage/index.js';
import { CliError, usage } from './cli-error.js';
import type { CliIo } from './run.js';

export interface RestoreFlags {
  readonly config?: string | undefined;
  readonly id?: string | undefined;
  readonly 'data-dir'?: string | undefined;
}

/** The file as `torua snapshot save` wrote it, checked: its table reads back and hashes to what it says. */
export interface SavedSnapshot {
  readonly clusterId: string;
  readonly appliedIndex: number;
  readonly stateHash: string;
  readonly state: RoutingState;
}

const encoder = new TextEncoder();

export function parseSavedSnapshot(text: string, file: string): SavedSnapshot {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${file} is not JSON (${(e as Error).message}): not a file of \`torua snapshot save\``, 1);
  }
  const d = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  if (d.format !== SNAPSHOT_FORMAT || d.version !== SNAPSHOT_VERSION) {
    throw new CliError(`${file}: format ${JSON.stringify(d.format)} version ${JSON.stringify(d.version)}, expected ${SNAPSHOT_FORMAT} version ${SNAPSHOT_VERSION}`, 1);
  }
  if (typeof d.applied_index !== 'number' || !Number.isSafeInteger(d.applied_index) || d.applied_index < 1) {
    throw new CliError(`${file}: applied_index must be a whole number of at least 1`, 1);
  }
  if (typeof d.state_hash !== 'string' || d.state_hash.length === 0) throw new CliError(`${file}: state_hash is missing`, 1);
  let state: RoutingState;
  try {
    state = deserializeState(encoder.encode(JSON.stringify({ format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, state: d.state })));
  } catch (e) {
    throw new CliError(`${file}: ${(e as Error).message}`, 1);
  }
  const hash = stateHash(state);
  if (hash !== d.state_hash) throw new CliError(`${file}: the table hashes to ${hash}, the file says ${d.state_hash}: corrupt or edited, refused`, 1);
  if (d.cluster_id !== state.clusterId) throw new CliError(`${file}: cluster_id ${JSON.stringify(d.cluster_id)} differs from the table's ${state.clusterId}`, 1);
  return { clusterId: state.clusterId, appliedIndex: d.applied_index, stateHash: hash, state };
}

/** The table the new quorum starts from: the snapshot's, with the file's coordinators as members, recovering. */
export function restoredTable(saved: SavedSnapshot, file: ClusterFile, nowMs: number): RoutingState {
  const members: Record<string, MemberRecord> = {};
  for (const c of file.coordinators) members[c.id] = { id: c.id, host: c.host, apiPort: c.apiPort, peerPort: c.peerPort, role: 'voter' };
  const table: RoutingState = { ...saved.state, members, restoring: { snapshotIndex: saved.appliedIndex, snapshotHash: saved.stateHash, sinceMs: nowMs } };
  // Through the replicas' own reader once more: what is seeded is what they will load.
  return deserializeState(serializeState(table));
}

async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw new CliError(`cannot read ${dir}: ${(e as Error).message}`, 1);
  }
}

/** One replica's store: the table as its snapshot at `index` (term 1), committed, with `voters`. */
async function seed(dir: string, table: RoutingState, index: number, voters: readonly string[]): Promise<void> {
  const storage = await LevelRaftStorage.open(dir);
  try {
    await storage.persist({
      hardState: { term: 1, vote: '', commit: index },
      snapshot: { meta: { index, term: 1, conf: { voters: [...voters], learners: [] } }, data: serializeState(table) },
      entries: [],
      compaction: undefined,
      sync: true,
    });
  } finally {
    await storage.close();
  }
}

export async function runSnapshotRestore(args: readonly string[], flags: RestoreFlags, io: CliIo): Promise<number> {
  try {
    if (args.length !== 1) throw usage('torua snapshot restore: exactly one FILE is required');
    if (flags.config === undefined) throw usage('torua snapshot restore: --config FILE is required (the cluster file of the new quorum)');
    const file = args[0]!;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new CliError(`cannot read ${file}: ${(e as Error).message}`, 1);
    }
    const saved = parseSavedSnapshot(text, file);
    let cluster: ClusterFile;
    let views: CoordinatorView[];
    try {
      cluster = await loadClusterFile(flags.config);
      const ids = flags.id === undefined ? cluster.coordinators.map((c) => c.id) : [flags.id];
      views = ids.map((id) => resolveCoordinator(cluster, id, { dataDir: flags['data-dir'] }, flags.config));
    } catch (e) {
      throw usage((e as Error).message);
    }
    if (cluster.clusterId !== saved.clusterId) throw new CliError(`${file} is of cluster ${saved.clusterId}, ${flags.config} of ${cluster.clusterId}: refused`, 1);
    if (cluster.shards !== saved.state.shards.length) {
      throw new CliError(`${file} has ${saved.state.shards.length} shards, ${flags.config} says ${cluster.shards}: refused`, 1);
    }
    const used: string[] = [];
    for (const v of views) if (!(await isEmptyDir(v.dataDir))) used.push(`${v.self.id} (${v.dataDir})`);
    if (used.length > 0) {
      throw new CliError(`refused, nothing written: the data directory of ${used.join(', ')} is not empty. A restore seeds a NEW quorum; stop and move away the old data first`, 1);
    }
    const table = restoredTable(saved, cluster, Date.now());
    const voters = cluster.coordinators.map((c) => c.id);
    for (const v of views) await seed(v.dataDir, table, saved.appliedIndex, voters);
    const targets = views.map((v) => `${v.self.id} (${v.dataDir})`).join(', ');
    io.out(
      `restored ${file} (cluster ${saved.clusterId}, index ${saved.appliedIndex}, hash ${saved.stateHash}) into ${targets}.\n` +
        `Start the coordinators as usual (torua coordinator --config ${flags.config} --id …); the cluster grants no lease and moves nothing ` +
        'until the leader has heard what the data nodes hold, then takes newer placements from them.\n',
    );
    return 0;
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    io.err(`${e.message}\n`);
    return e.exitCode;
  }
}
