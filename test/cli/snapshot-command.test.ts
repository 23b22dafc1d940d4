// `torua snapshot save FILE` and `GET /cluster/snapshot` against a coordinator API server (the routing table applied
// for real): the file holds the whole table with its index and hash, and reads back through the replicas' own code.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deserializeState, serializeState, stateHash } from '../../src/coordinator/routing/index.js';
import { FakeCoordinatorService, registerCommand } from '../api/fake-service.js';
import { rawRequest, startServer } from '../api/helpers.js';
import { torua } from '../support/run-cli.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function served() {
  const service = new FakeCoordinatorService({ shards: 2 });
  for (const id of ['n1', 'n2']) await service.propose(registerCommand(id));
  await service.propose({ type: 'assignShard', atMs: 0, reason: 't', shardId: 0, expectedEpoch: 0, primary: 'n1', replicas: ['n2'] });
  const server = await startServer(service);
  return { service, server, at: ['--coordinators', server.address] };
}

describe('torua snapshot save', () => {
  it('writes the table with its index and hash; it reads back with the same hash', async () => {
    const { service, at } = await served();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'torua-snap-'));
    dirs.push(dir);
    const file = path.join(dir, 'table.json');
    const saved = await torua('snapshot', 'save', file, ...at);
    expect(saved.err).toBe('');
    expect(saved.code).toBe(0);
    const hash = stateHash(service.state);
    expect(saved.out).toContain(`state hash ${hash}, 2 nodes, 2 shards, settings version 1`);
    const json = JSON.parse(await readFile(file, 'utf8'));
    expect(json).toMatchObject({ format: 'torua.routing-state', version: 1, cluster_id: service.state.clusterId, state_hash: hash });
    expect(json.applied_index).toBeGreaterThanOrEqual(3);
    const back = deserializeState(serializeState(json.state));
    expect(stateHash(back)).toBe(hash);
    expect(back.shards[0]).toMatchObject({ primary: 'n1', replicas: ['n2'] });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('usage errors exit 2 and write nothing; a cluster that cannot be reached exits 3', async () => {
    expect((await torua('snapshot')).code).toBe(2);
    expect((await torua('snapshot', 'load', 'x')).code).toBe(2);
    expect((await torua('snapshot', 'save')).code).toBe(2);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'torua-snap-'));
    dirs.push(dir);
    const down = await torua('snapshot', 'save', path.join(dir, 'x.json'), '--coordinators', '127.0.0.1:9');
    expect(down.code).toBe(3);
    await expect(stat(path.join(dir, 'x.json'))).rejects.toThrow();
  });

  it('GET /cluster/snapshot answers the same; a query parameter it does not read is 400', async () => {
    const { service, server } = await served();
    const a = await rawRequest(`${server.url}/cluster/snapshot`, 'GET');
    expect(a).toMatchObject({ status: 200, body: { format: 'torua.routing-state', state_hash: stateHash(service.state) } });
    expect((await rawRequest(`${server.url}/cluster/snapshot?stale=true`, 'GET')).status).toBe(400);
  });
});
