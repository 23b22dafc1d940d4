import { describe, expect, it } from 'vitest';
import { createLogger, createMemoryLogger, levelEnabled, LOG_LEVELS, silentLogger } from '../../src/observability/index.js';

function capture() {
  const lines: string[] = [];
  return { lines, stream: { write: (line: string) => lines.push(line) }, records: () => lines.map((l) => JSON.parse(l)) };
}

describe('createLogger (pino)', () => {
  it('writes one JSON line per message, with level word, time, bindings and fields', () => {
    const out = capture();
    const log = createLogger({ level: 'info', stream: out.stream, bindings: { replica: 'c1' } });
    log.info('became leader', { term: 4, reason: 'won election' });
    log.child({ role: 'leader' }).warn('slow fsync', { elapsedMs: 120 });
    expect(out.lines).toHaveLength(2);
    for (const line of out.lines) expect(line.endsWith('\n')).toBe(true);
    const [first, second] = out.records();
    expect(first).toMatchObject({ level: 'info', replica: 'c1', term: 4, reason: 'won election', msg: 'became leader' });
    expect(typeof first.time).toBe('string');
    expect(Number.isNaN(Date.parse(first.time))).toBe(false);
    expect(first.pid).toBe(process.pid);
    expect(second).toMatchObject({ level: 'warn', replica: 'c1', role: 'leader', elapsedMs: 120, msg: 'slow fsync' });
  });

  it('respects the level', () => {
    const out = capture();
    const log = createLogger({ level: 'warn', stream: out.stream });
    log.trace('t');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(out.records().map((r) => r.msg)).toEqual(['w', 'e']);
    expect(log.level).toBe('warn');
    expect(log.isLevelEnabled('info')).toBe(false);
    expect(log.isLevelEnabled('error')).toBe(true);
    const silent = createLogger({ level: 'silent', stream: out.stream });
    silent.error('nothing');
    expect(out.lines).toHaveLength(2);
  });

  it('logs an error with its type, message and stack', () => {
    const out = capture();
    createLogger({ stream: out.stream }).error('apply failed', { err: new TypeError('boom') });
    const [r] = out.records();
    expect(r.err).toMatchObject({ type: 'TypeError', message: 'boom' });
    expect(r.err.stack).toMatch(/TypeError: boom/);
  });

  it('defaults to info', () => {
    const out = capture();
    const log = createLogger({ stream: out.stream });
    log.debug('hidden');
    log.info('shown');
    expect(out.records().map((r) => r.msg)).toEqual(['shown']);
  });
});

describe('memory and silent loggers', () => {
  it('keep lines with bindings for tests, children sharing one list', () => {
    const log = createMemoryLogger();
    log.child({ replica: 'c2' }).child({ term: 3 }).info('voted', { for: 'c1' });
    log.debug('plain');
    expect(log.records).toEqual([
      { level: 'info', msg: 'voted', fields: { replica: 'c2', term: 3, for: 'c1' } },
      { level: 'debug', msg: 'plain', fields: {} },
    ]);
  });

  it('respect the level like pino does', () => {
    const log = createMemoryLogger('info');
    log.debug('no');
    log.error('yes');
    expect(log.records.map((r) => r.msg)).toEqual(['yes']);
    expect(silentLogger.child({ a: 1 })).toBe(silentLogger);
    expect(() => silentLogger.error('x')).not.toThrow();
    expect(silentLogger.isLevelEnabled('error')).toBe(false);
  });

  it('order levels least severe first', () => {
    expect(LOG_LEVELS).toEqual(['trace', 'debug', 'info', 'warn', 'error', 'silent']);
    expect(levelEnabled('debug', 'info')).toBe(true);
    expect(levelEnabled('error', 'warn')).toBe(false);
    expect(levelEnabled('silent', 'error')).toBe(false);
  });
});
