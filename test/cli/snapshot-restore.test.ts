// `torua snapshot restore FILE --config F`: checks everything before it writes anything, then seeds each replica's
// empty data directory with a Raft store whose snapshot is the table (recovering) with the file's voters.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { snapshotInfo } from '../../src/api/coordinator/wire/snapshot.js';
import { deserializeState } from '../../src/coordinator/routing/index.js';
import { LevelRaftStorage } from '../../src/storage/index.js';
import { FakeCoordinatorService, registerCommand } from '../api/fake-service.js';
import { torua } from '../support/run-cli.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function setup() {
  const service = new FakeCoordinatorService({ shards: 2 });
  for (const id of ['n1', 'n2']) await service.propose(registerCommand(id));
  await service.propose({ type: 'assignShard', atMs: 0, reason: 't', shardId: 0, expectedEpoch: 0, primary: 'n1', replicas: ['n2'] });
  const read = await service.read('linearizable');
  const info = snapshotInfo(read, 1_000);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'torua-restore-'));
  dirs.push(dir);
  const file = path.join(dir, 'table.json');
  await writeFile(file, JSON.stringify(info));
  const config = path.join(dir, 'cluster.json');
  const coordinators = [1, 2, 3].map((i) => ({ id: `r${i}`, host: '127.0.0.1', apiPort: 17_000 + i, peerPort: 17_100 + i }));
  await writeFile(config, JSON.stringify({ clusterId: info.cluster_id, dataDir: path.join(dir, 'data'), shards: 2, replicationFactor: 1, coordinators, nodes: [] }));
  const dataOf = (id: string) => path.join(dir, 'data', id);
  return { info, dir, file, config, dataOf };
}

const exists = (p: string) => readdir(p).then(() => true, () => false);

describe('torua snapshot restore', () => {
  it('seeds every coordinator of the file: the table as a committed snapshot at the saved index, the file’s voters, recovering', async () => {
    const { info, file, config, dataOf } = await setup();
    const r = await torua('snapshot', 'restore', file, '--config', config);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`index ${info.applied_index}`);
    for (const id of ['r1', 'r2', 'r3']) {
      const storage = await LevelRaftStorage.open(dataOf(id));
      try {
        const loaded = await storage.load();
        expect(loaded.snapshot!.meta).toMatchObject({ index: info.applied_index, conf: { voters: ['r1', 'r2', 'r3'], learners: [] } });
        expect(loaded.hardState.commit).toBe(info.applied_index);
        const table = deserializeState(loaded.snapshot!.data);
        expect(table.restoring).toMatchObject({ snapshotIndex: info.applied_index, snapshotHash: info.state_hash });
        expect(Object.keys(table.members)).toEqual(['r1', 'r2', 'r3']);
        expect(table.shards).toEqual(info.state.shards);
        expect(table.nodes).toEqual(info.state.nodes);
      } finally {
        await storage.close();
      }
    }
  });

  it('refused, nothing written: a data directory in use (named), an edited or unreadable file, another cluster; usage errors exit 2', async () => {
    const { info, dir, file, config, dataOf } = await setup();
    await mkdir(dataOf('r2'), { recursive: true });
    await writeFile(path.join(dataOf('r2'), 'CURRENT'), 'x');
    const busy = await torua('snapshot', 'restore', file, '--config', config);
    expect(busy.code).toBe(1);
    expect(busy.err).toMatch(/r2 \(.*\) is not empty/);
    expect(await exists(dataOf('r1'))).toBe(false);
    await rm(dataOf('r2'), { recursive: true });

    const edited = JSON.parse(await readFile(file, 'utf8'));
    edited.state.shards[0].epoch += 1;
    const editedFile = path.join(dir, 'edited.json');
    await writeFile(editedFile, JSON.stringify(edited));
    const tampered = await torua('snapshot', 'restore', editedFile, '--config', config);
    expect(tampered.code).toBe(1);
    expect(tampered.err).toMatch(/hashes to .*, the file says .*: corrupt or edited, refused/);

    const truncated = path.join(dir, 'truncated.json');
    await writeFile(truncated, JSON.stringify(info).slice(0, 100));
    expect((await torua('snapshot', 'restore', truncated, '--config', config)).err).toMatch(/is not JSON/);
    const other = path.join(dir, 'other.json');
    await writeFile(other, JSON.stringify({ clusterId: 'another', dataDir: path.join(dir, 'data'), shards: 2, replicationFactor: 1, coordinators: [{ id: 'r1', host: '127.0.0.1', apiPort: 17_001, peerPort: 17_101 }], nodes: [] }));
    const wrongCluster = await torua('snapshot', 'restore', file, '--config', other);
    expect(wrongCluster.code).toBe(1);
    expect(wrongCluster.err).toMatch(/of cluster .* refused/);
    expect(await readdir(path.join(dir, 'data'))).toEqual([]);

    expect((await torua('snapshot', 'restore', file)).code).toBe(2);
    expect((await torua('snapshot', 'restore', '--config', config)).code).toBe(2);
    expect((await torua('snapshot', 'restore', file, '--config', config, '--id', 'nope')).code).toBe(2);
  });

  it('--id seeds one replica only', async () => {
    const { file, config, dataOf } = await setup();
    expect((await torua('snapshot', 'restore', file, '--config', config, '--id', 'r2')).code).toBe(0);
    expect(await exists(dataOf('r2'))).toBe(true);
    expect(await exists(dataOf('r1'))).toBe(false);
  });
});
