import { describe, expect, it } from 'vitest';
import {
  CLUSTER_ERROR_STATUS,
  ClusterError,
  ClusterErrorCode,
  ConfigError,
  ConfigErrorCode,
  errorResponse,
  INTERNAL_ERROR_MESSAGE,
  isClusterError,
  isClusterErrorCode,
  toErrorBody,
  TRPC_ERROR_CODES,
  TypedError,
} from '../../src/errors/index.js';

describe('the public error codes', () => {
  it('map every code to an HTTP status and a tRPC v11 code', () => {
    const codes = Object.values(ClusterErrorCode);
    expect(Object.keys(CLUSTER_ERROR_STATUS).sort()).toEqual([...codes].sort());
    for (const code of codes) {
      const { httpStatus, trpcCode } = CLUSTER_ERROR_STATUS[code];
      expect(httpStatus, code).toBeGreaterThanOrEqual(400);
      expect(httpStatus, code).toBeLessThan(600);
      expect(TRPC_ERROR_CODES, code).toContain(trpcCode);
    }
  });

  it('use the statuses DESIGN.md §7 names', () => {
    const http = (code: ClusterErrorCode) => CLUSTER_ERROR_STATUS[code].httpStatus;
    expect(http(ClusterErrorCode.InvalidInput)).toBe(400);
    expect(http(ClusterErrorCode.NotFound)).toBe(404);
    expect(http(ClusterErrorCode.StaleEpoch)).toBe(409);
    expect(http(ClusterErrorCode.PayloadTooLarge)).toBe(413);
    expect(http(ClusterErrorCode.NotLeader)).toBe(421);
    expect(http(ClusterErrorCode.NoQuorum)).toBe(503);
    expect(http(ClusterErrorCode.NoLease)).toBe(503);
    expect(http(ClusterErrorCode.Timeout)).toBe(504);
    expect(http(ClusterErrorCode.Internal)).toBe(500);
  });

  it('are told apart from other strings', () => {
    expect(isClusterErrorCode('NOT_LEADER')).toBe(true);
    expect(isClusterErrorCode('ENOENT')).toBe(false);
    expect(isClusterErrorCode(3)).toBe(false);
  });

  it('fold every config error code into INTERNAL (the server’s configuration is no client’s fault)', () => {
    for (const code of Object.values(ConfigErrorCode)) {
      expect(code).toMatch(/^CONFIG_/);
      const err = new ConfigError({ code, file: 'f' } as never, 'm');
      expect(err.publicCode, code).toBe(ClusterErrorCode.Internal);
    }
  });
});

describe('ClusterError', () => {
  it('narrows the payload by code', () => {
    const err: unknown = new ClusterError({ code: ClusterErrorCode.StaleEpoch, shard: 3, expectedEpoch: 4, currentEpoch: 5 }, 'shard 3 is at epoch 5, not 4');
    expect(isClusterError(err, ClusterErrorCode.NotLeader)).toBe(false);
    if (!isClusterError(err, ClusterErrorCode.StaleEpoch)) throw new Error('expected a stale epoch');
    expect(err.type.currentEpoch).toBe(5);
    expect(err.payload).toEqual({ shard: 3, expectedEpoch: 4, currentEpoch: 5 });
    expect(err.name).toBe('ClusterError');
    expect(err).toBeInstanceOf(Error);
    expect(err.toObject()).toEqual({ code: 'STALE_EPOCH', shard: 3, expectedEpoch: 4, currentEpoch: 5, message: 'shard 3 is at epoch 5, not 4' });
  });
});

describe('toErrorBody', () => {
  it('gives code, message and payload of a cluster error', () => {
    const err = new ClusterError({ code: ClusterErrorCode.NotLeader, leader: 'c2', leaderAddress: '127.0.0.1:7002', term: 7 }, 'c1 is not the leader');
    expect(errorResponse(err)).toEqual({
      httpStatus: 421,
      trpcCode: 'PRECONDITION_FAILED',
      body: { error: { code: 'NOT_LEADER', message: 'c1 is not the leader', leader: 'c2', leaderAddress: '127.0.0.1:7002', term: 7 } },
    });
    const input = new ClusterError({ code: ClusterErrorCode.InvalidInput, issues: ['key: expected 1 to 1024 bytes'] }, 'bad input');
    expect(toErrorBody(input)).toEqual({ error: { code: 'INVALID_INPUT', message: 'bad input', issues: ['key: expected 1 to 1024 bytes'] } });
  });

  it('turns anything else into INTERNAL without its message or stack', () => {
    for (const thrown of [new Error('EACCES: /secret/path'), new TypeError('x is undefined'), 'a string', undefined, { stack: 'at x' }]) {
      const r = errorResponse(thrown);
      expect(r.httpStatus).toBe(500);
      expect(r.trpcCode).toBe('INTERNAL_SERVER_ERROR');
      expect(r.body).toEqual({ error: { code: 'INTERNAL', message: INTERNAL_ERROR_MESSAGE } });
    }
  });

  it('hides an INTERNAL cluster error’s message, payload and cause', () => {
    const err = new ClusterError({ code: ClusterErrorCode.Internal }, 'apply failed at /data/c1', { cause: new Error('boom') });
    expect(toErrorBody(err)).toEqual({ error: { code: 'INTERNAL', message: INTERNAL_ERROR_MESSAGE } });
  });

  it('folds a domain error into its public code, showing only its public payload', () => {
    class ShardStoreError extends TypedError<{ code: 'CLOSING'; dataDir: string }> {
      get publicCode() {
        return ClusterErrorCode.Unavailable;
      }
    }
    const closing = new ShardStoreError({ code: 'CLOSING', dataDir: '/data/n1' }, 'the store is closing');
    expect(errorResponse(closing)).toEqual({
      httpStatus: 503,
      trpcCode: 'SERVICE_UNAVAILABLE',
      body: { error: { code: 'UNAVAILABLE', message: 'the store is closing' } },
    });
    const config = new ConfigError({ code: ConfigErrorCode.Invalid, file: '/etc/torua.json', issues: ['x'] }, '/etc/torua.json: x');
    expect(toErrorBody(config)).toEqual({ error: { code: 'INTERNAL', message: INTERNAL_ERROR_MESSAGE } });
  });

  it('never lets a payload field hide the code or message, nor send objects', () => {
    const sneaky = new ClusterError({ code: ClusterErrorCode.Conflict, reason: 'x', ...({ code2: 1, message: 'other', nested: { a: 1 }, err: new Error('e') } as object) } as never, 'conflict');
    const body = toErrorBody(sneaky).error;
    expect(body.code).toBe('CONFLICT');
    expect(body.message).toBe('conflict');
    expect(body).not.toHaveProperty('nested');
    expect(body).not.toHaveProperty('err');
    expect(JSON.stringify(body)).not.toMatch(/stack|at /);
  });
});
