import { describe, expect, it } from 'vitest';
import { ClusterErrorCode } from '../../src/errors/index.js';
import { rejectionError } from '../../src/api/coordinator/errors/rejection.js';
import { compilePattern, matchPattern, pathSegments } from '../../src/api/http/route-match.js';
import { isJsonMediaType } from '../../src/api/http/json-body.js';
import { checkQuery, consistencyOf, numeric, withPathParams } from '../../src/api/coordinator/rest-input.js';
import { formatDuration } from '../../src/api/coordinator/wire/duration.js';

describe('route patterns', () => {
  const match = (pattern: string, path: string) => matchPattern(compilePattern(pattern), pathSegments(path));

  it('match literals and one segment per parameter, decoded', () => {
    expect(match('/nodes/:id/info', '/nodes/n1/info')).toEqual({ id: 'n1' });
    expect(match('/nodes/:id/info', '/nodes/n%2F1/info')).toEqual({ id: 'n/1' });
    expect(match('/nodes/:id/info', '/nodes//info')).toBeUndefined();
    expect(match('/nodes/:id/info', '/nodes/n1')).toBeUndefined();
    expect(match('/health', '/health/')).toEqual({});
    expect(match('/health', '/health/x')).toBeUndefined();
  });

  it('a rest parameter takes the remainder of the path, slashes included', () => {
    expect(match('/data/*key', '/data/path/to/x')).toEqual({ key: 'path/to/x' });
    expect(match('/data/*key', '/data/%E6%95%B0%E5%AD%97')).toEqual({ key: '数字' });
    expect(match('/data/*key', '/data/')).toBeUndefined();
  });

  it('refuse malformed percent-encoding with 400', () => {
    expect(() => pathSegments('/nodes/%E0%A4%A')).toThrow(/malformed percent-encoding/);
  });
});

describe('REST input helpers', () => {
  it('add path parameters to the body, refusing a body that names them', () => {
    expect(withPathParams({ labels: {} }, { id: 'n1' })).toEqual({ labels: {}, id: 'n1' });
    expect(() => withPathParams({ id: 'n2' }, { id: 'n1' })).toThrow('id: given in the path already');
    expect(() => withPathParams('x', { id: 'n1' })).toThrow('body: expected a JSON object, got "x"');
  });

  it('turn digits into numbers and leave anything else for the schema to refuse', () => {
    expect(numeric('12')).toBe(12);
    expect(numeric('-1')).toBe(-1);
    expect(numeric('1e3')).toBe('1e3');
    expect(numeric('abc')).toBe('abc');
  });

  it('read ?stale and refuse unknown or repeated query parameters', () => {
    expect(consistencyOf(new URLSearchParams(''))).toBe('linearizable');
    expect(consistencyOf(new URLSearchParams('stale=true'))).toBe('stale');
    expect(consistencyOf(new URLSearchParams('stale'))).toBe('stale');
    expect(consistencyOf(new URLSearchParams('stale=0'))).toBe('linearizable');
    expect(() => consistencyOf(new URLSearchParams('stale=yes'))).toThrow('stale: expected true or false, got "yes"');
    expect(() => checkQuery(new URLSearchParams('x=1'), [])).toThrow('x: unknown query parameter (this route takes none)');
    expect(() => checkQuery(new URLSearchParams('since=1&since=2'), ['since'])).toThrow('since: given more than once');
  });

  it('accept JSON media types only', () => {
    expect(isJsonMediaType('application/json')).toBe(true);
    expect(isJsonMediaType('Application/JSON; charset=utf-8')).toBe(true);
    expect(isJsonMediaType('application/merge-patch+json')).toBe(true);
    expect(isJsonMediaType('text/plain')).toBe(false);
    expect(isJsonMediaType(undefined)).toBe(false);
  });
});

describe('rejected commands', () => {
  const code = (c: string, about = {}) => rejectionError({ code: c, message: 'm' }, about).type;

  it('map by kind: STALE_* 409, UNKNOWN_* 404, INVALID_* 400, the rest 409 CONFLICT with the table’s code', () => {
    expect(code('STALE_EPOCH', { shard: 3, epochs: { expected: 1, current: 2 } })).toEqual({ code: ClusterErrorCode.StaleEpoch, shard: 3, expectedEpoch: 1, currentEpoch: 2 });
    expect(code('STALE_VERSION')).toEqual({ code: ClusterErrorCode.Conflict, reason: 'STALE_VERSION' });
    expect(code('UNKNOWN_NODE', { node: 'n1' })).toEqual({ code: ClusterErrorCode.NotFound, resource: 'node', id: 'n1' });
    expect(code('UNKNOWN_SHARD', { shard: 9 })).toEqual({ code: ClusterErrorCode.NotFound, resource: 'shard', id: '9' });
    expect(code('UNKNOWN_MEMBER', { member: 'c9' })).toEqual({ code: ClusterErrorCode.NotFound, resource: 'member', id: 'c9' });
    expect(code('INVALID_SETTINGS')).toEqual({ code: ClusterErrorCode.InvalidInput, issues: ['m'] });
    expect(code('CAPACITY_EXCEEDED')).toEqual({ code: ClusterErrorCode.Conflict, reason: 'CAPACITY_EXCEEDED' });
    expect(code('INTERNAL')).toEqual({ code: ClusterErrorCode.Internal });
  });
});

describe('durations for people', () => {
  it('use the largest fitting units', () => {
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(12_345)).toBe('12.3s');
    expect(formatDuration(245_000)).toBe('4m05s');
    expect(formatDuration(7_380_000)).toBe('2h03m');
    expect(formatDuration(273_600_000)).toBe('3d04h');
  });
});
