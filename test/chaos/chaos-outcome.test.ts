import { describe, expect, it } from 'vitest';
import { attemptHadNoEffect, classifyRestWrite, classifySmartWrite } from '../../scripts/chaos/outcome.js';

const node = (code: string, description = `${code}: refused`) => ({ target: 'n1 127.0.0.21:8081 (shard 3, epoch 4)', code, description });

describe('chaos outcome of a REST write', () => {
  it('is ok on 2xx', () => {
    expect(classifyRestWrite(204, undefined, false)).toBe('ok');
    expect(classifyRestWrite(200, undefined, false)).toBe('ok');
  });

  it('fails only on a refusal of the request itself or a refused connection', () => {
    expect(classifyRestWrite(400, 'INVALID_INPUT', false)).toBe('fail');
    expect(classifyRestWrite(413, 'PAYLOAD_TOO_LARGE', false)).toBe('fail');
    expect(classifyRestWrite(0, undefined, true)).toBe('fail');
  });

  it('is unknown after a timeout, a reset, a 5xx, and a refusal the coordinator may have met after an attempt that broke', () => {
    expect(classifyRestWrite(0, undefined, false)).toBe('unknown');
    expect(classifyRestWrite(503, 'UNAVAILABLE', false)).toBe('unknown');
    expect(classifyRestWrite(504, 'TIMEOUT', false)).toBe('unknown');
    expect(classifyRestWrite(500, 'INTERNAL', false)).toBe('unknown');
    // The coordinator retries after "no answer" and answers with the last attempt.
    expect(classifyRestWrite(409, 'STALE_EPOCH', false)).toBe('unknown');
    expect(classifyRestWrite(421, 'NOT_PRIMARY', false)).toBe('unknown');
    expect(classifyRestWrite(503, 'NO_LEASE', false)).toBe('unknown');
  });
});

describe('chaos outcome of a smart-client write', () => {
  it('fails when every attempt was refused by a node before it acted, or never reached one', () => {
    const attempts = [
      node('STALE_EPOCH'),
      node('NOT_PRIMARY'),
      node('NO_LEASE'),
      { target: 'coordinators', code: 'UNAVAILABLE', description: 'connection reset' },
      node('UNAVAILABLE', 'UNAVAILABLE: connection refused'),
      { target: 'shard 3', code: 'UNAVAILABLE', description: 'UNAVAILABLE: shard 3 has no primary' },
    ];
    expect(classifySmartWrite({ code: 'NO_LEASE', status: 503, attempts })).toBe('fail');
  });

  it('is unknown when any attempt may have stored: a timeout, a reset, UNAVAILABLE from the node', () => {
    for (const maybe of [node('TIMEOUT', 'TIMEOUT: no answer within 3000 ms'), node('UNAVAILABLE', 'UNAVAILABLE: connection reset'), node('UNAVAILABLE', 'UNAVAILABLE: replication failed')]) {
      expect(attemptHadNoEffect(maybe)).toBe(false);
      expect(classifySmartWrite({ code: 'STALE_EPOCH', status: 409, attempts: [node('STALE_EPOCH'), maybe, node('STALE_EPOCH')] })).toBe('unknown');
    }
  });

  it('reads an answer that stood at once (no attempts listed) as a failure only for a refusal of the request itself', () => {
    expect(classifySmartWrite({ code: 'INVALID_INPUT', status: 400, attempts: [] })).toBe('fail');
    expect(classifySmartWrite({ code: 'PAYLOAD_TOO_LARGE', status: 0, attempts: [] })).toBe('fail');
    expect(classifySmartWrite({ code: 'CONFLICT', status: 409, attempts: [] })).toBe('unknown');
    expect(classifySmartWrite({ code: 'INTERNAL', status: 500, attempts: [] })).toBe('unknown');
  });
});
