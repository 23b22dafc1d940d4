/**
 * `torua snapshot save FILE`: the routing table of a linearizable read, with
 * its Raft index and state hash, written to FILE (synced, then renamed into
 * place, so FILE is either the old file or the whole new one). The table is
 * checked before it is written: it must read back through the replicas' own
 * snapshot code with the hash the cluster gave.
 */
import { open, rename, rm } from 'node:fs/promises';
import { deserializeState, serializeState, stateHash } from '../coordinator/routing/index.js';
import { runAdminCall } from './admin-call.js';
import type { TargetFlags } from './cluster-target.js';
import type { CliIo } from './run.js';

const usage = 'usage: torua snapshot save FILE';

async function writeSynced(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export function runSnapshot(sub: string | undefined, args: readonly string[], flags: TargetFlags, io: CliIo): Promise<number> {
  if (sub !== 'save' || args.length !== 1) {
    const why = sub === undefined ? 'missing subcommand (save)' : sub !== 'save' ? `unknown subcommand '${sub}'` : 'exactly one FILE is required';
    io.err(`torua snapshot: ${why}\n${usage}\n`);
    return Promise.resolve(2);
  }
  const file = args[0]!;
  return runAdminCall('snapshot save', flags, io, async (client, context) => {
    const snap = await client.admin.snapshot.query(undefined, { context });
    // Read back exactly as a replica restores its own snapshot: shape, invariants, hash.
    const state = deserializeState(serializeState(snap.state));
    const hash = stateHash(state);
    if (hash !== snap.state_hash) throw new Error(`the table read back hashes to ${hash}, the cluster said ${snap.state_hash}: not written`);
    await writeSynced(file, `${JSON.stringify(snap, null, 2)}\n`);
    const nodes = Object.keys(state.nodes).length;
    const data = { file, cluster_id: snap.cluster_id, applied_index: snap.applied_index, state_hash: snap.state_hash };
    return { data, text: `saved ${file}: cluster ${snap.cluster_id}, index ${snap.applied_index}, state hash ${snap.state_hash}, ${nodes} node${nodes === 1 ? '' : 's'}, ${state.shards.length} shards, settings version ${state.config.version}` };
  });
}
