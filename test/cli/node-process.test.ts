import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeProcessConfig } from '../../src/cli/node-flags.js';
import { startNodeProcess, type RunningNode } from '../../src/cli/node-process.js';
import { waitFor } from '../support/wait-for.js';

const dirs: string[] = [];
const running: RunningNode[] = [];
const servers: net.Server[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function listening(): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return server;
}

const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

async function config(port: number): Promise<NodeProcessConfig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torua-node-process-'));
  dirs.push(dir);
  // Coordinators that accept connections and never answer: registration stays pending.
  const coordinator = await listening();
  return {
    id: 'n1',
    host: '127.0.0.1',
    port,
    capacity: 4,
    dataDir: path.join(dir, 'n1'),
    logLevel: 'silent',
    coordinators: [`127.0.0.1:${portOf(coordinator)}`],
    maxValueBytes: 1024,
  };
}


describe('the data node process (in process)', () => {
  it('answers /health while it is still registering, and stops cleanly', async () => {
    const free = await listening();
    const port = portOf(free);
    await new Promise((r) => free.close(r));
    servers.splice(servers.indexOf(free), 1);
    const node = await startNodeProcess(await config(port));
    running.push(node);
    expect(node.address).toBe(`127.0.0.1:${port}`);
    const health = await waitFor('GET /health', async () => {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      return res.status === 200 ? ((await res.json()) as { status: string; id: string }) : undefined;
    });
    expect(health).toMatchObject({ status: 'starting', id: 'n1' });
    await node.stop();
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });

  it('refuses to start on a port already taken, saying so', async () => {
    const taken = await listening();
    await expect(startNodeProcess(await config(portOf(taken)))).rejects.toThrow(`cannot listen on 127.0.0.1:${portOf(taken)}: the port is already in use`);
  });
});
