import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runNode, type NodeCommandModules } from '../../src/cli/node-command.js';
import type { NodeProcessConfig } from '../../src/cli/node-flags.js';
import type { RunningNode } from '../../src/cli/node-process.js';
import { EXIT_USAGE, run } from '../../src/cli/run.js';
import { ClusterError, ClusterErrorCode } from '../../src/errors/index.js';
import { silentLogger } from '../../src/observability/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torua-node-command-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const configFile = path.join(dir, 'cluster.json');
fs.writeFileSync(
  configFile,
  JSON.stringify({
    clusterId: 'test',
    dataDir: path.join(dir, 'data'),
    shards: 4,
    replicationFactor: 2,
    coordinators: [
      { id: 'c1', host: '127.0.0.1', apiPort: 7001, peerPort: 7101 },
      { id: 'c2', host: '127.0.0.12', apiPort: 7002, peerPort: 7102 },
    ],
    nodes: [{ id: 'n1', host: '127.0.0.21', port: 8081, capacity: 5, labels: { zone: 'a' } }],
    settings: { maxValueBytes: 2048 },
  }),
);

async function torua(...argv: string[]) {
  let err = '';
  const code = await run(argv, { out: () => undefined, err: (t) => (err += t) });
  return { code, err };
}

/** A start module that records what it was asked to run and registers as told. */
function fakeStart(registered: () => Promise<void>, stopped: string[]): NodeCommandModules & { configs: NodeProcessConfig[] } {
  const configs: NodeProcessConfig[] = [];
  return {
    configs,
    async start(config) {
      configs.push(config);
      const running: RunningNode = {
        logger: silentLogger,
        address: `${config.host}:${config.port}`,
        registered: registered(),
        drain: async () => undefined,
        stop: async () => {
          stopped.push(config.id);
        },
      };
      return running;
    },
  };
}

describe('torua node: arguments', () => {
  const flagsNode = ['node', '--id', 'n4', '--host', '127.0.0.1', '--port', '8084', '--coordinators', '127.0.0.1:7001', '--data-dir', dir];
  const replace = (flag: string, value: string) => flagsNode.map((a, i) => (flagsNode[i - 1] === flag ? value : a));
  const without = (flag: string) => flagsNode.filter((a, i) => a !== flag && flagsNode[i - 1] !== flag);

  it('refuses bad and missing flags with exit code 2 and a message naming the flag', async () => {
    const cases: readonly [string[], RegExp][] = [
      [['node'], /^torua node: --id is required/],
      [without('--host'), /^torua node: --host is required/],
      [without('--port'), /^torua node: --port is required/],
      [without('--coordinators'), /^torua node: --coordinators is required/],
      [without('--data-dir'), /^torua node: --data-dir is required .*DIR\/n4/],
      [replace('--port', 'abc'), /^torua node: --port: expected an integer from 1 to 65535, got "abc"/],
      [replace('--port', '70000'), /^torua node: --port: expected an integer from 1 to 65535, got 70000/],
      [replace('--host', '0.0.0.0'), /^torua node: --host: expected the address other processes dial/],
      [replace('--id', 'no/slash'), /^torua node: --id: expected an id/],
      [replace('--coordinators', 'nowhere'), /^torua node: --coordinators: expected host:port, got "nowhere"/],
      [[...flagsNode, '--capacity', '0'], /^torua node: --capacity: expected an integer from 1 to 65536, got 0/],
      [[...flagsNode, '--log-level', 'loud'], /^torua node: --log-level: expected one of/],
      [['node', '--config', configFile, '--id', 'n1', '--host', '127.0.0.1'], /^torua node: --host: the file gives it/],
      [['node', '--config', configFile], /^torua node: --id is required/],
      [['node', '--config', configFile, '--id', 'c1'], /no node "c1".*is a coordinator/],
      [['node', '--config', path.join(dir, 'missing.json'), '--id', 'n1'], /missing\.json/],
    ];
    for (const [argv, message] of cases) {
      const r = await torua(...argv);
      expect(r.code, argv.join(' ')).toBe(EXIT_USAGE);
      expect(r.err, argv.join(' ')).toMatch(message);
    }
  });

  it('runs the file’s node with the file’s coordinators, <dataDir>/<id> and its value limit', async () => {
    const stopped: string[] = [];
    const start = fakeStart(() => Promise.reject(new ClusterError({ code: ClusterErrorCode.Conflict }, 'node n1 is registered with another identity')), stopped);
    let err = '';
    const code = await runNode({ config: configFile, id: 'n1', 'log-level': 'warn' }, { out: () => undefined, err: (t) => (err += t) }, start);
    expect(start.configs).toEqual([
      {
        id: 'n1',
        host: '127.0.0.21',
        port: 8081,
        capacity: 5,
        labels: { zone: 'a' },
        dataDir: path.join(dir, 'data', 'n1'),
        logLevel: 'warn',
        coordinators: ['127.0.0.1:7001', '127.0.0.12:7002'],
        maxValueBytes: 2048,
        security: { tls: undefined, insecure: false },
        clusterId: 'test',
      },
    ]);
    // start() refused with CONFLICT: its message, exit 1, and the node stopped.
    expect(code).toBe(1);
    expect(err).toBe('torua node n1: node n1 is registered with another identity\n');
    expect(stopped).toEqual(['n1']);
  });

  it('runs a node not in the file from its flags, and exits 1 when it cannot start', async () => {
    const start: NodeCommandModules & { configs: NodeProcessConfig[] } = {
      configs: [],
      async start(config) {
        this.configs.push(config);
        throw new Error('cannot listen on 127.0.0.1:8084: the port is already in use');
      },
    };
    let err = '';
    const flags = { id: 'n4', host: '127.0.0.1', port: '8084', coordinators: '127.0.0.1:7001, 127.0.0.12:7002', 'data-dir': dir, capacity: '3' };
    expect(await runNode(flags, { out: () => undefined, err: (t) => (err += t) }, start)).toBe(1);
    expect(err).toBe('torua node n4: cannot listen on 127.0.0.1:8084: the port is already in use\n');
    expect(start.configs[0]).toMatchObject({ id: 'n4', port: 8084, capacity: 3, dataDir: path.join(dir, 'n4'), coordinators: ['127.0.0.1:7001', '127.0.0.12:7002'] });
  });
});
