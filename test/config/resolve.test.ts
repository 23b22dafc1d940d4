import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseClusterFile, resolveCoordinator, resolveNode } from '../../src/config/index.js';
import { ConfigError, ConfigErrorCode } from '../../src/errors/index.js';

const file = parseClusterFile(
  {
    clusterId: 't',
    dataDir: './data',
    shards: 4,
    replicationFactor: 2,
    logLevel: 'warn',
    coordinators: [
      { id: 'c1', host: '127.0.0.11', apiPort: 7001, peerPort: 7101 },
      { id: 'c2', host: '127.0.0.12', apiPort: 7001, peerPort: 7101 },
      { id: 'c3', host: '127.0.0.13', apiPort: 7001, peerPort: 7101 },
    ],
    nodes: [{ id: 'n1', host: '127.0.0.21', port: 8081, capacity: 8 }],
  },
  'cluster.json',
);

const thrown = (f: () => unknown): ConfigError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
};

describe('resolveCoordinator', () => {
  it('gives the replica its entry, its peers, <dataDir>/<id> and the file’s log level', () => {
    const v = resolveCoordinator(file, 'c2');
    expect(v.self).toEqual({ id: 'c2', host: '127.0.0.12', apiPort: 7001, peerPort: 7101 });
    expect(v.peers.map((p) => p.id)).toEqual(['c1', 'c3']);
    expect(v.dataDir).toBe(path.resolve('data', 'c2'));
    expect(v.logLevel).toBe('warn');
    expect(v.file).toBe(file);
  });

  it('lets --data-dir and --log-level win over the file', () => {
    const v = resolveCoordinator(file, 'c1', { dataDir: '/var/lib/torua', logLevel: 'debug' });
    expect(v.dataDir).toBe('/var/lib/torua/c1');
    expect(v.logLevel).toBe('debug');
  });

  it('refuses a bad override, naming the flag', () => {
    const err = thrown(() => resolveCoordinator(file, 'c1', { logLevel: 'loud' }, 'cluster.json'));
    expect(err.code).toBe(ConfigErrorCode.Invalid);
    expect(err.message).toBe('--log-level: expected one of trace, debug, info, warn, error, silent, got "loud"');
    expect(thrown(() => resolveCoordinator(file, 'c1', { dataDir: ' ' })).message).toBe('--data-dir: expected a directory path, got ""');
  });

  it('lists the known coordinators for an unknown id, and says when it is a node', () => {
    const err = thrown(() => resolveCoordinator(file, 'c9', {}, 'cluster.json'));
    expect(err.type).toEqual({ code: ConfigErrorCode.UnknownId, file: 'cluster.json', id: 'c9', role: 'coordinator', knownIds: ['c1', 'c2', 'c3'] });
    expect(err.message).toBe('cluster.json: no coordinator "c9" (the coordinators are c1, c2, c3)');
    expect(thrown(() => resolveCoordinator(file, 'n1', {}, 'cluster.json')).message).toBe(
      'cluster.json: no coordinator "n1" (the coordinators are c1, c2, c3); "n1" is a data node: start it with `torua node`',
    );
  });
});

describe('resolveNode', () => {
  it('gives the node its entry and data directory', () => {
    const v = resolveNode(file, 'n1', { dataDir: 'other' });
    expect(v.self).toEqual({ id: 'n1', host: '127.0.0.21', port: 8081, capacity: 8 });
    expect(v.dataDir).toBe(path.resolve('other', 'n1'));
  });

  it('lists the known nodes for an unknown id', () => {
    expect(thrown(() => resolveNode(file, 'n4', {}, 'cluster.json')).message).toBe(
      'cluster.json: no node "n4" (the nodes are n1); a node not in the file joins with --host, --port and --coordinators',
    );
    expect(thrown(() => resolveNode(file, 'c1', {}, 'cluster.json')).message).toBe(
      'cluster.json: no node "c1" (the nodes are n1); "c1" is a coordinator: start it with `torua coordinator`',
    );
    const empty = { ...file, nodes: [] };
    expect(thrown(() => resolveNode(empty, 'n1')).message).toMatch(/^cluster file: no node "n1" \(the file lists no nodes\)/);
  });
});
