/**
 * Issue 4 item 1 with real processes: a data node that is not in the
 * cluster file joins with `--coordinators`, gets shards, keeps its identity
 * in its data directory (a restart re-registers as the same node, its data
 * intact), and a second process claiming its id with another identity is
 * refused with a clear error instead of taking the node's place.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterEach, describe, expect, test } from 'vitest';
import type { Child } from '../../scripts/launch/child.js';
import { freePort, MAIN_JS, useClusters, waitFor, type Cluster } from '../support/cluster-harness.js';
import { dataRequest, describeAnswer } from '../support/data-http.js';

const clusters = useClusters();
const HOST = '127.0.0.29';
const started: ResultPromise[] = [];

afterEach(async () => {
  for (const child of started.splice(0)) {
    child.kill('SIGKILL'); // a no-op for a child that has exited
    await child.catch(() => undefined);
  }
});

function coordinatorList(h: Cluster): string {
  return h.members.map((m) => `${m.host}:${m.apiPort}`).join(',');
}

/** n9 as a child of the cluster (a new life when started again), on `HOST:port`, joining with --coordinators. */
function startNode(h: Cluster, port: number, dataDir: string): Child & { output: () => string } {
  const child = h.launch('n9', ['node', '--id', 'n9', '--host', HOST, '--port', String(port), '--coordinators', coordinatorList(h), '--data-dir', dataDir]);
  return Object.assign(child, { output: () => child.tail().join('\n') });
}

async function shardsHeldBy(h: Cluster, id: string): Promise<number> {
  const a = await h.get(h.voters[0]!, '/shards', 5_000);
  if (a.status !== 200) return 0;
  return (a.body.shards as { primary: string | null; in_sync: string[] }[]).filter((s) => s.primary === id && s.in_sync.includes(id)).length;
}

describe('a data node not in the cluster file (real processes)', () => {
  test('joins with --coordinators, gets shards, restarts as the same node, and a second identity is refused', async () => {
    const h = await clusters.create({ name: 'node-join' });
    await h.startVoters();
    await h.waitForLeader({ all: true });
    const port = await freePort(HOST);
    const dataDir = path.join(h.dir, 'n9-data');

    const first = startNode(h, port, dataDir);
    // Alone in the cluster, it gets every shard once the placement grace period has passed.
    await waitFor('n9 to hold all 8 shards as primary', async () => ((await shardsHeldBy(h, 'n9')) === 8 ? true : undefined), { timeoutMs: 30_000, describe: first.output });
    const nodes = await h.get(h.voters[1]!, '/nodes');
    expect(nodes.body.nodes).toEqual([expect.objectContaining({ id: 'n9', address: `${HOST}:${port}` })]);
    const put = await dataRequest(`${h.members[0]!.host}:${h.members[0]!.apiPort}`, 'PUT', 'kept', 'across restarts');
    expect(put.status, describeAnswer(put)).toBe(204);
    // `--data-dir D` keeps the node's data in D/<id>.
    const identityFile = path.join(dataDir, 'n9', 'identity');
    const identity = fs.readFileSync(identityFile, 'utf8');

    // SIGINT: stop without draining; the copies stay assigned to it.
    const stopped = await first.stop('SIGINT');
    expect(stopped.exit.exitCode, first.output()).toBe(0);
    const second = startNode(h, port, dataDir);
    let last = '';
    await waitFor(
      'the restarted n9 to serve the key it stored before',
      async () => {
        const a = await dataRequest(`${h.members[2]!.host}:${h.members[2]!.apiPort}`, 'GET', 'kept');
        last = describeAnswer(a);
        return a.status === 200 && a.bytes.toString() === 'across restarts' ? true : undefined;
      },
      { timeoutMs: 30_000, describe: () => `${last}\n${second.output()}` },
    );
    expect(fs.readFileSync(identityFile, 'utf8')).toBe(identity);
    expect((await h.get(h.voters[0]!, '/nodes')).body.nodes).toHaveLength(1);

    // Another process, another data directory (so another identity), the same id.
    const impostorPort = await freePort(HOST);
    const impostor = execa(
      process.execPath,
      [MAIN_JS, 'node', '--id', 'n9', '--host', HOST, '--port', String(impostorPort), '--coordinators', coordinatorList(h), '--data-dir', path.join(h.dir, 'impostor')],
      { reject: false, all: true, stdin: 'ignore', cleanup: true, timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } },
    );
    started.push(impostor);
    const result = await impostor;
    expect(result.exitCode, String(result.all)).toBe(1);
    expect(String(result.all)).toMatch(/n9/);
    expect(String(result.all)).toMatch(/identity|another process/i);
    // The real n9 is untouched: still registered at its own address, still serving.
    expect((await h.get(h.voters[0]!, '/nodes')).body.nodes).toEqual([expect.objectContaining({ id: 'n9', address: `${HOST}:${port}` })]);
    expect((await dataRequest(`${h.members[0]!.host}:${h.members[0]!.apiPort}`, 'GET', 'kept')).status).toBe(200);
  });
});
