import { describe, expect, test } from 'vitest';
import { COMMAND_TYPES, decodeCommand, encodeCommand, parseCommand } from '../../../src/coordinator/routing/index.js';
import { assign, cmd, move, register, unhealthy } from './helpers.js';

const field = (input: unknown) => {
  const r = parseCommand(input);
  if (r.ok) throw new Error(`accepted: ${JSON.stringify(input)}`);
  expect(r.code).toBe('INVALID_COMMAND');
  return r;
};

describe('parseCommand', () => {
  test('accepts one valid command of every type and returns it typed', () => {
    const valid = [
      register('n1', { labels: { zone: 'a' }, identity: 'id-1' }),
      cmd('setNodeLabels', { nodeId: 'n1', labels: {} }),
      cmd('setNodeStatus', { nodeId: 'n1', status: 'maintenance', expectedStatus: 'healthy' }),
      unhealthy('n1'),
      cmd('removeNode', { nodeId: 'n1' }),
      assign(0, 0, 'n1', ['n2']),
      move(0, 1, null, []),
      cmd('setInSync', { shardId: 0, expectedEpoch: 1, nodeId: 'n2', inSync: true }),
      cmd('promotePrimary', { shardId: 0, expectedEpoch: 1, nodeId: 'n2' }),
      cmd('updateSettings', { expectedVersion: 1, settings: { health: { leaseMs: 2000 } } }),
      cmd('ackConfig', { nodeId: 'n1', version: 2 }),
      cmd('setMaintenance', { nodeIds: ['n1', 'n2'], enabled: true, ttlMs: 60_000 }),
      cmd('startEvacuation', { nodeId: 'n1' }),
      cmd('cancelEvacuation', { nodeId: 'n1' }),
      cmd('finishEvacuation', { nodeId: 'n1' }),
      cmd('setEvacuationStall', { nodeId: 'n1', startedAtMs: 5, stalledReason: null }),
      cmd('finishRestore', { snapshotHash: 'abc', shards: [{ shardId: 0, expectedEpoch: 1, epoch: 4, primary: 'n1', replicas: ['n2'], inSync: ['n1'] }] }),
      cmd('startUpgrade', { to: '0.1.1', restartTimeoutMs: 60_000, nodes: ['n1'], coordinators: ['c1'] }),
      cmd('upgradeStep', { to: '0.1.1', id: 'n1', phase: 'restart' }),
    ];
    expect(new Set(valid.map((c) => c.type))).toEqual(new Set(COMMAND_TYPES));
    for (const c of valid) {
      const r = parseCommand(c);
      expect(r, JSON.stringify(r)).toEqual({ ok: true, command: c });
    }
  });

  test('the error names the offending field', () => {
    expect(field({ ...register('n1'), capacity: -1 }).field).toBe('capacity');
    expect(field({ ...register('n1'), address: 'no-port' }).field).toBe('address');
    expect(field({ ...register('n1'), nodeId: 'bad id' }).field).toBe('nodeId');
    expect(field({ ...register('n1'), labels: { 'has space': 'x' } }).field).toBe('labels.has space');
    expect(field({ ...register('n1'), atMs: 1.5 }).field).toBe('atMs');
    expect(field({ ...assign(0, 0, 'n1'), expectedEpoch: undefined }).field).toBe('expectedEpoch');
    expect(field({ ...assign(0, 0, 'n1'), colour: 'red' }).field).toBe('colour');
    expect(field(cmd('updateSettings', { expectedVersion: 1, settings: { health: { leaseMs: 'long' } } } as never)).field).toBe(
      'settings.health.leaseMs',
    );
    expect(field(cmd('updateSettings', { expectedVersion: 1, settings: { bogus: 1 } } as never)).field).toBe('settings.bogus');
  });

  test('the message says which command and what was expected', () => {
    const r = field({ ...register('n1'), capacity: 'many' });
    expect(r.message).toMatch(/^invalid registerNode: capacity: .*number/);
    expect(field({ type: 'launchRockets' }).message).toMatch(/^invalid command: type: .*registerNode/);
    expect(field(null).field).toBe('(root)');
    expect(field('registerNode').field).toBe('(root)');
  });

  test('one copy per node: the primary repeated as a replica, or a replica twice', () => {
    expect(field(assign(0, 0, 'n1', ['n2', 'n1'])).field).toBe('replicas.1');
    expect(field(move(0, 1, 'n1', ['n2', 'n2'])).field).toBe('replicas.1');
    expect(field(move(0, 1, 'n1', ['n2', 'n2'])).message).toMatch(/n2 is listed twice/);
  });

  test('a failure decision lists its confirmations; other statuses may not', () => {
    expect(field({ ...unhealthy('n1'), confirmedBy: undefined }).field).toBe('confirmedBy');
    expect(field({ ...unhealthy('n1'), voters: undefined }).field).toBe('voters');
    expect(field(unhealthy('n1', ['c1', 'c1'])).field).toBe('confirmedBy.1');
    expect(field(unhealthy('n1', ['c1', 'c2', 'c3', 'c4'], 3)).message).toMatch(/4 confirmations but only 3 voters/);
    expect(field({ ...cmd('setNodeStatus', { nodeId: 'n1', status: 'healthy' }), confirmedBy: ['c1'] }).field).toBe('confirmedBy');
    expect(field({ ...cmd('setNodeStatus', { nodeId: 'n1', status: 'healthy' }), status: 'suspect' }).field).toBe('status');
  });
});

describe('encodeCommand / decodeCommand', () => {
  test('round-trips every command exactly', () => {
    for (const c of [register('n1', { labels: { 'topology/zone': '数字 zone' } }), unhealthy('n2'), move(3, 7, null, ['n1'])]) {
      expect(decodeCommand(encodeCommand(c))).toEqual({ ok: true, command: c });
    }
  });

  test('the entry is versioned JSON', () => {
    const text = new TextDecoder().decode(encodeCommand(assign(0, 0, 'n1')));
    expect(JSON.parse(text)).toMatchObject({ v: 1, command: { type: 'assignShard' } });
  });

  test('bytes that are not an entry are a rejection, not an exception', () => {
    const bytes = (s: string) => new TextEncoder().encode(s);
    expect(decodeCommand(new Uint8Array([0xff, 0xfe]))).toMatchObject({ ok: false, code: 'INVALID_COMMAND' });
    expect(decodeCommand(bytes('{"v":1,'))).toMatchObject({ ok: false, code: 'INVALID_COMMAND' });
    expect(decodeCommand(bytes('[1]'))).toMatchObject({ ok: false, code: 'INVALID_COMMAND' });
    expect(decodeCommand(bytes('{"v":2,"command":{}}'))).toMatchObject({ ok: false, code: 'UNSUPPORTED_VERSION', field: 'v' });
    expect(decodeCommand(bytes('{"command":{}}'))).toMatchObject({ ok: false, code: 'UNSUPPORTED_VERSION' });
    expect(decodeCommand(bytes('{"v":1,"command":{"type":"removeNode"}}'))).toMatchObject({ ok: false, code: 'INVALID_COMMAND' });
    const extra = JSON.stringify({ v: 1, command: register('n1'), sig: 'x' });
    expect(decodeCommand(bytes(extra))).toMatchObject({ ok: false, code: 'INVALID_COMMAND', field: 'sig' });
  });
});
