import { describe, expect, it } from 'vitest';
import { joinAddress, parseAddress, parseAddresses } from '../../src/client/addresses.js';
import { classifyFailure } from '../../src/client/failure.js';
import { callSettings, resolveSettings } from '../../src/client/options.js';

describe('addresses', () => {
  it('accepts host:port, [v6]:port and http:// or https:// URLs, and refuses anything else', () => {
    expect(parseAddress('127.0.0.1:7001')).toEqual({ address: '127.0.0.1:7001', origin: 'http://127.0.0.1:7001' });
    expect(parseAddress(' http://localhost:7002/ ').address).toBe('localhost:7002');
    expect(parseAddress('[::1]:7003').origin).toBe('http://[::1]:7003');
    for (const bad of ['', '127.0.0.1', ':7001', 'host:0', 'host:65536', 'host:port', 'ftp://h:1', 'a b:1']) {
      expect(() => parseAddress(bad), bad).toThrow(/expected a coordinator address "host:port"/);
    }
    expect(parseAddresses(['a:1', 'http://a:1', 'https://a:1', 'b:2'])).toEqual(['a:1', 'b:2']);
    expect(() => parseAddresses([])).toThrow(/at least one coordinator/);
    expect(joinAddress('::1', 7001)).toBe('[::1]:7001');
    expect(joinAddress('127.0.0.1', 7001)).toBe('127.0.0.1:7001');
  });
});

describe('failure classification', () => {
  const answer = (data: Record<string, unknown>) => Object.assign(new Error(String(data['message'] ?? 'x')), { data });
  const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });

  it('goes straight to the leader a NOT_LEADER answer names', () => {
    expect(classifyFailure(answer({ code: 'NOT_LEADER', httpStatus: 421, leader: 'c2', leaderAddress: '127.0.0.1:7002' }), undefined)).toMatchObject({
      kind: 'redirect',
      leaderAddress: '127.0.0.1:7002',
      leader: 'c2',
    });
    // Without an address it can use, the leader is looked up instead.
    expect(classifyFailure(answer({ code: 'NOT_LEADER', httpStatus: 421, leader: 'c2' }), undefined).kind).toBe('retry');
    expect(classifyFailure(answer({ code: 'NOT_LEADER', httpStatus: 421, leaderAddress: 'nonsense' }), undefined).kind).toBe('retry');
  });

  it('retries what another replica, or a moment later, may not repeat; not answers about the request', () => {
    for (const code of ['NO_LEADER', 'NO_QUORUM', 'UNAVAILABLE', 'TIMEOUT', 'OVERLOADED']) {
      expect(classifyFailure(answer({ code, httpStatus: 503 }), undefined), code).toMatchObject({ kind: 'retry', code });
    }
    expect(classifyFailure(answer({ code: 'SOMETHING_NEW', httpStatus: 503 }), undefined).kind).toBe('retry');
    for (const code of ['INVALID_INPUT', 'NOT_FOUND', 'CONFLICT', 'STALE_EPOCH', 'INTERNAL']) {
      expect(classifyFailure(answer({ code, httpStatus: 400 }), undefined), code).toEqual({ kind: 'final' });
    }
  });

  it('names what went wrong without an answer', () => {
    expect(classifyFailure(refused, undefined)).toEqual({ kind: 'retry', code: 'UNAVAILABLE', description: 'connection refused' });
    const reset = Object.assign(new Error('other side closed'), { cause: { code: 'UND_ERR_SOCKET' } });
    expect(classifyFailure(reset, undefined)).toMatchObject({ description: 'connection closed' });
    const badPort = Object.assign(new TypeError('fetch failed'), { cause: new Error('bad port') });
    expect(classifyFailure(badPort, undefined)).toMatchObject({ description: 'bad port' });
    expect(classifyFailure(new Error('aborted'), { timeoutMs: 250 })).toEqual({ kind: 'retry', code: 'TIMEOUT', description: 'no answer within 250 ms' });
  });
});

describe('options', () => {
  it('fills defaults and refuses nonsense', () => {
    const s = resolveSettings({ coordinators: ['127.0.0.1:7001'] });
    expect(s).toMatchObject({ timeoutMs: 6_000, maxRetries: 8, backoffMs: 50, maxBackoffMs: 1_000, probeTimeoutMs: 1_000 });
    expect(resolveSettings({ coordinators: ['a:1'], timeoutMs: 300 }).probeTimeoutMs).toBe(300);
    expect(() => resolveSettings({ coordinators: ['a:1'], maxRetries: -1 })).toThrow(/maxRetries: expected a number >= 0/);
    expect(() => resolveSettings({ coordinators: ['a:1'], timeoutMs: Number.NaN })).toThrow(/timeoutMs/);
    expect(callSettings(s, { timeoutMs: 40_000, maxRetries: 2.7 })).toEqual({ timeoutMs: 40_000, maxRetries: 2 });
    expect(callSettings(s, { timeoutMs: 'soon' })).toEqual({ timeoutMs: 6_000, maxRetries: 8 });
  });
});
