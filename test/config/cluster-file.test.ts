import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_CLUSTER_SETTINGS,
  loadClusterFile,
  parseClusterFile,
  parseClusterFileText,
  type ClusterFile,
  type ClusterSettings,
} from '../../src/config/index.js';
import { ConfigError, ConfigErrorCode } from '../../src/errors/index.js';

const examplePath = path.resolve(import.meta.dirname, '../../cluster.example.json');

let example: Record<string, any>;
let dir: string;

beforeAll(async () => {
  example = JSON.parse(await readFile(examplePath, 'utf8'));
  dir = await mkdtemp(path.join(tmpdir(), 'torua-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The example with one change, as the user would have written it. */
function variant(change: (f: Record<string, any>) => void): Record<string, any> {
  const f = structuredClone(example);
  change(f);
  return f;
}

function problems(value: unknown): string[] {
  try {
    parseClusterFile(value, 'cluster.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    const err = e as ConfigError;
    expect(err.code).toBe(ConfigErrorCode.Invalid);
    if (err.type.code !== ConfigErrorCode.Invalid) throw err;
    expect(err.message).toBe(err.type.issues.map((l) => `cluster.json: ${l}`).join('\n'));
    return [...err.type.issues];
  }
  throw new Error('expected the file to be refused');
}

describe('the cluster file', () => {
  it('accepts cluster.example.json and fills every default', async () => {
    const f = await loadClusterFile(examplePath);
    expect(f.clusterId).toBe('torua-dev');
    expect(f.coordinators.map((c) => c.id)).toEqual(['c1', 'c2', 'c3']);
    expect(f.nodes.map((n) => [n.id, n.port, n.capacity])).toEqual([
      ['n1', 8081, 16],
      ['n2', 8082, 16],
      ['n3', 8083, 16],
    ]);
    expect(f.raft).toEqual({ tickMs: 10, heartbeatTicks: 5, electionTicks: 30, snapshotEveryEntries: 10_000, maxInflightMsgs: 256, maxSizePerMsgBytes: 1024 * 1024 });
    expect(f.settings).toEqual(DEFAULT_CLUSTER_SETTINGS);
    expect(f.notifications).toEqual({ timeoutMs: 2_000, maxAttempts: 5 });
    expect(f.logLevel).toBe('info');
    // The parsed settings are the replicated settings type, as the coordinator needs them.
    const settings: ClusterSettings = f.settings;
    expect(settings.health.probeIntervalMs).toBe(250);
  });

  it('takes the top-level replicationFactor into the replicated settings', () => {
    const f: ClusterFile = parseClusterFile(variant((f) => (f.replicationFactor = 3)), 'x');
    expect(f.settings.replicationFactor).toBe(3);
    expect(parseClusterFile(variant((f) => Object.assign(f, { replicationFactor: 3, settings: { replicationFactor: 3 } })), 'x').settings.replicationFactor).toBe(3);
    expect(problems(variant((f) => Object.assign(f, { replicationFactor: 3, settings: { replicationFactor: 2 } })))).toEqual([
      'settings.replicationFactor: expected the top-level replicationFactor (3) or nothing, got 2',
    ]);
  });

  it('keeps given optional sections and labels', () => {
    const f = parseClusterFile(
      variant((f) => {
        f.raft = { tickMs: 5, electionTicks: 40, leaderLossDelayTicks: 3 };
        f.settings = { health: { leaseMs: 2_000 }, minHealthyFraction: 0.25 };
        f.notifications = { webhookUrl: 'http://127.0.0.1:9000/hook' };
        f.logLevel = 'debug';
        f.nodes[0].labels = { zone: 'a', 'topology.io/rack': 'r1' };
        f.nodes = [...f.nodes, { id: 'n4', host: 'node-4.example.com', port: 8084, capacity: 4 }];
      }),
      'x',
    );
    expect(f.raft).toMatchObject({ tickMs: 5, heartbeatTicks: 5, electionTicks: 40, leaderLossDelayTicks: 3 });
    expect(f.settings.health).toEqual({ ...DEFAULT_CLUSTER_SETTINGS.health, leaseMs: 2_000 });
    expect(f.settings.minHealthyFraction).toBe(0.25);
    expect(f.notifications.webhookUrl).toBe('http://127.0.0.1:9000/hook');
    expect(f.logLevel).toBe('debug');
    expect(f.nodes[0]?.labels).toEqual({ zone: 'a', 'topology.io/rack': 'r1' });
    expect(f.nodes[3]?.host).toBe('node-4.example.com');
  });

  it('allows no nodes (they join later) and a replication factor above their number', () => {
    const f = parseClusterFile(variant((f) => Object.assign(f, { nodes: [], replicationFactor: 3 })), 'x');
    expect(f.nodes).toEqual([]);
  });

  it('refuses unknown keys everywhere, naming the known ones', () => {
    expect(problems(variant((f) => (f.shard = 8)))).toEqual([
      'shard: unknown key (the keys here are clusterId, dataDir, shards, replicationFactor, coordinators, nodes, raft, settings, notifications, logLevel, tls, auth)',
    ]);
    expect(problems(variant((f) => (f.coordinators[1].apiport = 7002)))).toEqual([
      'coordinators[1].apiport: unknown key (the keys here are id, host, apiPort, peerPort)',
    ]);
    expect(problems(variant((f) => (f.raft = { tick: 10 })))[0]).toMatch(/^raft\.tick: unknown key \(the keys here are tickMs, /);
    expect(problems(variant((f) => (f.settings = { health: { intervalMs: 1 } })))[0]).toMatch(/^settings\.health\.intervalMs: unknown key/);
    expect(problems(variant((f) => (f.notifications = { url: 'http://x' })))[0]).toMatch(/^notifications\.url: unknown key/);
  });

  it('names the field, what was expected and what was found', () => {
    expect(problems(variant((f) => (f.coordinators[1].apiPort = '70x')))).toEqual([
      'coordinators[1].apiPort: expected an integer from 1 to 65535, got "70x"',
    ]);
    expect(problems(variant((f) => (f.coordinators[1].apiPort = 70_000)))).toEqual([
      'coordinators[1].apiPort: expected an integer from 1 to 65535, got 70000',
    ]);
    expect(problems(variant((f) => (f.nodes[2].port = 0)))).toEqual(['nodes[2].port: expected an integer from 1 to 65535, got 0']);
    expect(problems(variant((f) => (f.nodes[0].capacity = 1.5)))).toEqual(['nodes[0].capacity: expected an integer from 1 to 65536, got 1.5']);
    expect(problems(variant((f) => delete f.shards))).toEqual(['shards: expected an integer from 1 to 16384, but it is missing']);
    expect(problems(variant((f) => (f.replicationFactor = 0)))).toEqual(['replicationFactor: expected an integer from 1 to 7, got 0']);
    expect(problems(variant((f) => (f.coordinators = [])))).toEqual(['coordinators: expected 1 to 7 coordinators (3 or 5 survive failures), got an empty array']);
    expect(problems(variant((f) => (f.nodes = {})))).toEqual(['nodes: expected an array of nodes, got an object']);
    expect(problems(variant((f) => (f.coordinators[0] = 'c1')))).toEqual(['coordinators[0]: expected an object, got "c1"']);
    expect(problems(variant((f) => (f.logLevel = 'loud')))).toEqual(['logLevel: expected one of trace, debug, info, warn, error, silent, got "loud"']);
    expect(problems(variant((f) => (f.dataDir = '')))).toEqual(['dataDir: expected a directory path, got ""']);
    expect(problems(variant((f) => (f.nodes[0].id = 'n 1')))[0]).toMatch(/^nodes\[0\]\.id: expected an id of 1 to 64 letters, .*, got "n 1"$/);
    expect(problems(variant((f) => (f.nodes[0].labels = { 'rack id': 'r1' })))).toEqual([
      'nodes[0].labels["rack id"]: invalid key (expected a label name of 1 to 63 letters, digits, ".", "_", "/" and "-")',
    ]);
    expect(problems(variant((f) => (f.notifications = { webhookUrl: 'ftp://x' })))).toEqual([
      'notifications.webhookUrl: expected an http:// or https:// URL, got "ftp://x"',
    ]);
    expect(problems([example])).toEqual(['expected an object, got an array of 1']);
  });

  it('lists every problem of a file, one line each', () => {
    const lines = problems(
      variant((f) => {
        f.coordinators[0].peerPort = -1;
        f.nodes[1].host = 7;
        f.extra = true;
      }),
    );
    expect(lines).toHaveLength(3);
  });

  it('checks hosts: IPv4 addresses others can dial, or hostnames', () => {
    const hostProblems = (host: unknown) => problems(variant((f) => (f.nodes[0].host = host)));
    for (const ok of ['127.0.0.1', '127.0.0.12', '10.1.2.3', 'localhost', 'node-1', 'Node-1.Example.COM']) {
      expect(() => parseClusterFile(variant((f) => (f.nodes[0].host = ok)), 'x'), ok).not.toThrow();
    }
    for (const bad of ['999.1.1.1', '1.2.3', '01.2.3.4', 'bad_host', '-node', 'a..b', 'a.123', '', 'http://x', '::1']) {
      expect(hostProblems(bad), bad).toEqual([`nodes[0].host: expected an IPv4 address (like 127.0.0.11) or a hostname, got ${JSON.stringify(bad)}`]);
    }
    expect(hostProblems('0.0.0.0')).toEqual(['nodes[0].host: expected the address other processes dial, got "0.0.0.0"; 0.0.0.0 means "every interface"']);
    expect(hostProblems('239.1.1.1')[0]).toMatch(/^nodes\[0\]\.host: expected a unicast address, got "239\.1\.1\.1"; /);
    expect(hostProblems(7)).toEqual(['nodes[0].host: expected a host (a string), got 7']);
  });

  it('refuses an id used twice across coordinators and nodes', () => {
    expect(problems(variant((f) => (f.nodes[1].id = 'c2')))).toEqual([
      'nodes[1].id: expected an id unique among coordinators and nodes (coordinators[1].id has it too), got "c2"',
    ]);
    expect(problems(variant((f) => (f.nodes[2].id = 'n1')))).toEqual([
      'nodes[2].id: expected an id unique among coordinators and nodes (nodes[0].id has it too), got "n1"',
    ]);
  });

  it('refuses a host:port used twice, localhost and 127.0.0.1 alike', () => {
    expect(problems(variant((f) => (f.coordinators[1].peerPort = 7001)))).toEqual([
      'coordinators[1].peerPort: expected a host:port no other listener uses (coordinators[0].apiPort is 127.0.0.1:7001 too), got 7001',
    ]);
    expect(problems(variant((f) => (f.coordinators[0].peerPort = 7001)))).toEqual([
      'coordinators[0].peerPort: expected a host:port no other listener uses (coordinators[0].apiPort is 127.0.0.1:7001 too), got 7001',
    ]);
    expect(problems(variant((f) => Object.assign(f.nodes[2], { host: 'localhost', port: 8081 })))).toEqual([
      'nodes[2].port: expected a host:port no other listener uses (nodes[0].port is 127.0.0.1:8081 too), got 8081',
    ]);
    // The same port on another loopback alias is another endpoint (DESIGN.md §1).
    expect(() => parseClusterFile(variant((f) => Object.assign(f.nodes[2], { host: '127.0.0.13', port: 8081 })), 'x')).not.toThrow();
  });

  it('refuses a heartbeat that is not shorter than the election timeout', () => {
    expect(problems(variant((f) => (f.raft = { heartbeatTicks: 30, electionTicks: 30 })))).toEqual([
      'raft.heartbeatTicks: expected fewer ticks than electionTicks (30), got 30; followers must hear several heartbeats per election timeout',
    ]);
    expect(problems(variant((f) => (f.raft = { electionTicks: 4 })))[0]).toMatch(/^raft\.heartbeatTicks: expected fewer ticks than electionTicks \(4\), got 5; /);
    expect(problems(variant((f) => (f.raft = { leaderLossDelayTicks: 30 })))[0]).toMatch(/^raft\.leaderLossDelayTicks: expected fewer ticks than electionTicks \(30\), got 30; /);
  });

  it('applies the settings rules inside the file', () => {
    expect(problems(variant((f) => (f.settings = { health: { probeTimeoutMs: 300 } })))).toEqual([
      'settings.health.probeTimeoutMs: expected at most probeIntervalMs (250), got 300; one probe per node is in flight at a time',
    ]);
  });
});

describe('reading the cluster file', () => {
  const write = async (name: string, text: string) => {
    const p = path.join(dir, name);
    await writeFile(p, text);
    return p;
  };
  const refusal = async (p: string): Promise<ConfigError> => {
    const err = await loadClusterFile(p).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  };

  it('names a missing file', async () => {
    const p = path.join(dir, 'nope.json');
    const err = await refusal(p);
    expect(err.code).toBe(ConfigErrorCode.ReadFailed);
    expect(err.message).toBe(`${p}: cannot read the cluster file: no such file`);
  });

  it('names the line and column of invalid JSON', async () => {
    const p = await write('trailing-comma.json', '{\n  "clusterId": "x",\n  "shards": 8,\n}\n');
    const err = await refusal(p);
    expect(err.type).toEqual({ code: ConfigErrorCode.InvalidJson, file: p, line: 4, column: 1 });
    expect(err.message).toBe(`${p}: invalid JSON at line 4, column 1: expected a property name in double quotes (no comma before '}'), found '}'`);
  });

  it('finds errors V8 reports without a position', () => {
    // JSON.parse says only "Unexpected token ']'" here.
    expect(() => parseClusterFileText('{\n  "nodes": [1, 2,]\n}', 'c.json')).toThrow(
      "c.json: invalid JSON at line 2, column 18: expected a value (no comma before ']'), found ']'",
    );
    expect(() => parseClusterFileText('', 'c.json')).toThrow('c.json: invalid JSON at line 1, column 1: expected a value');
  });

  it('reads a file saved with a byte-order mark, and checks what it read', async () => {
    const ok = await write('bom.json', `\uFEFF${JSON.stringify(example)}`);
    expect((await loadClusterFile(ok)).clusterId).toBe('torua-dev');
    const bad = await write('bad.json', JSON.stringify(variant((f) => (f.coordinators[1].apiPort = '70x'))));
    expect((await refusal(bad)).message).toBe(`${bad}: coordinators[1].apiPort: expected an integer from 1 to 65535, got "70x"`);
  });
});
