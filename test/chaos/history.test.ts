import { describe, expect, it } from 'vitest';
import { formatFinalReadLine, formatHistoryLine, parseFinalReads, parseHistory } from '../../scripts/chaos/history.js';
import { isClusterError } from '../../src/errors/index.js';
import { del, get, put } from './ops.js';

function parseError(text: string, parse: (t: string) => unknown = parseHistory): { message: string; issues: readonly string[] } {
  try {
    parse(text);
  } catch (e) {
    expect(isClusterError(e)).toBe(true);
    return { message: (e as Error).message, issues: (e as { payload: { issues: readonly string[] } }).payload.issues };
  }
  throw new Error('expected the text to be refused');
}

const line = (o: Record<string, unknown>): string =>
  JSON.stringify({ client: 1, op: 'put', key: 'k', value: 'v', invoke: 1, complete: 2, outcome: 'ok', ...o });

describe('history file', () => {
  it('reads back what it writes, skipping blank lines and a byte-order mark', () => {
    const ops = [put(3, 'k7', 'v123', [1234.5, 1236.1]), get(2, 'k7', null, [1, 2]), del(1, 'k 数字', [3, null], 'unknown'), put(1, 'k', 'x', [4, 5], 'fail')];
    const text = `\uFEFF${ops.map(formatHistoryLine).join('\n')}\n\n`;
    expect(parseHistory(text)).toEqual(ops);
    expect(formatHistoryLine(ops[0]!)).toBe('{"client":3,"op":"put","key":"k7","value":"v123","invoke":1234.5,"complete":1236.1,"outcome":"ok"}');
  });

  it('names the line and the field of each problem', () => {
    const text = [line({}), line({ complete: 0.5 }), '', line({ op: 'cas' }), line({ value: null }), line({ op: 'delete' }), line({ outcome: 'ok', complete: null })].join('\n');
    const { message, issues } = parseError(text);
    expect(issues).toEqual([
      'line 2: complete: expected a time ≥ invoke (1), got 0.5',
      'line 4: op: expected one of "put", "get", "delete", got "cas"',
      'line 5: value: expected the string a put wrote, got null',
      'line 6: value: expected null for a delete, got "v"',
      'line 7: complete: expected the completion time of an operation whose outcome is "ok", got null',
    ]);
    expect(message).toMatch(/^invalid history: line 2: complete: .*; and 2 more$/);
  });

  it('refuses bad JSON, unknown fields, bad keys and out-of-range numbers', () => {
    const text = ['{"client": 1,', line({ extra: 1 }), line({ key: '' }), line({ client: -1 }), line({ invoke: Infinity })].join('\n');
    const { issues } = parseError(text);
    expect(issues[0]).toMatch(/^line 1: invalid JSON at column \d+/);
    expect(issues[1]).toBe('line 2: extra: unknown key (the keys here are client, op, key, value, invoke, complete, outcome)');
    expect(issues[2]).toBe('line 3: key: expected 1 to 1024 bytes of UTF-8, got ""');
    expect(issues[3]).toBe('line 4: client: expected an integer from 0 to 1000000, got -1');
    // JSON has no Infinity: the stringified line holds null there.
    expect(issues[4]).toBe('line 5: invoke: expected a number from 0 to 10000000000, got null');
  });

  it('spells out at most ten bad lines and counts the rest', () => {
    const text = Array.from({ length: 25 }, () => line({ client: 'x' })).join('\n');
    const { issues } = parseError(text);
    expect(issues).toHaveLength(11);
    expect(issues[10]).toBe('15 more bad lines');
  });
});

describe('final reads file', () => {
  it('reads key → value, null for not found', () => {
    const text = [formatFinalReadLine({ key: 'a', value: 'v1' }), formatFinalReadLine({ key: 'b', value: null })].join('\n');
    expect(parseFinalReads(text)).toEqual(new Map([['a', 'v1'], ['b', null]]));
  });

  it('refuses a key read twice and a line without a value', () => {
    expect(parseError('{"key":"a","value":"1"}\n{"key":"a","value":"2"}', parseFinalReads).issues).toEqual(['key "a" is read more than once']);
    expect(parseError('{"key":"a"}', parseFinalReads).issues).toEqual(['line 1: value: expected a string or null, but it is missing']);
  });
});
