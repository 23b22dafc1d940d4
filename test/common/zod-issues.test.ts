import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeValue, formatPath, formatZodIssues, intInRange, strictObject } from '../../src/config/index.js';
import { describeIssues } from '../../src/common/zod-issues.js';

const lines = (schema: z.ZodType, value: unknown, reportInput = false) => {
  const r = schema.safeParse(value, { reportInput });
  if (r.success) throw new Error('expected a failure');
  return formatZodIssues(r.error.issues, reportInput ? undefined : value);
};

describe('formatPath', () => {
  it('writes paths the way one would in JavaScript', () => {
    expect(formatPath([])).toBe('');
    expect(formatPath(['coordinators', 1, 'apiPort'])).toBe('coordinators[1].apiPort');
    expect(formatPath([0, 'a'])).toBe('[0].a');
    expect(formatPath(['labels', 'rack id'])).toBe('labels["rack id"]');
  });
});

describe('describeValue', () => {
  it('quotes strings, counts arrays and never dumps objects', () => {
    expect(describeValue('70x')).toBe('"70x"');
    expect(describeValue(7)).toBe('7');
    expect(describeValue(null)).toBe('null');
    expect(describeValue(false)).toBe('false');
    expect(describeValue([])).toBe('an empty array');
    expect(describeValue([1, 2])).toBe('an array of 2');
    expect(describeValue({ secret: 'x' })).toBe('an object');
    expect(describeValue('x'.repeat(100))).toHaveLength(59);
  });
});

describe('formatZodIssues', () => {
  it('words zod’s own issues for schemas without words of their own', () => {
    const schema = z.object({
      name: z.string().min(3),
      tags: z.array(z.string()).max(1),
      count: z.number().int().positive(),
      ratio: z.number().lt(1),
      kind: z.enum(['a', 'b']),
      flag: z.boolean(),
      step: z.number().multipleOf(5),
    });
    expect(lines(schema, { name: 'ab', tags: ['x', 'y'], count: 1.5, ratio: 1, kind: 'c', flag: 'yes', step: 7 })).toEqual([
      'name: expected at least 3 characters, got "ab"',
      'tags: expected at most 1 item, got an array of 2',
      'count: expected an integer, got 1.5',
      'ratio: expected < 1, got 1',
      'kind: expected one of "a", "b", got "c"',
      'flag: expected true or false, got "yes"',
      'step: expected a multiple of 5, got 7',
    ]);
    expect(lines(z.object({ n: z.number().min(2).max(9) }), { n: 10 })).toEqual(['n: expected ≤ 9, got 10']);
    expect(lines(z.object({ n: z.number().gt(0) }), { n: 0 })).toEqual(['n: expected > 0, got 0']);
    expect(lines(z.object({ s: z.string().length(2), a: z.array(z.number()).min(2) }), { s: 'abc', a: [1] })).toEqual([
      's: expected exactly 2 characters, got "abc"',
      'a: expected at least 2 items, got an array of 1',
    ]);
  });

  it('uses the schema’s own words when it has them', () => {
    expect(lines(z.object({ port: intInRange(1, 65_535) }), { port: '70x' })).toEqual(['port: expected an integer from 1 to 65535, got "70x"']);
  });

  it('takes the value found from the issue when parsed with reportInput', () => {
    expect(lines(z.object({ port: intInRange(1, 65_535) }), { port: 0 }, true)).toEqual(['port: expected an integer from 1 to 65535, got 0']);
    expect(lines(z.object({ port: intInRange(1, 65_535) }), {}, true)).toEqual(['port: expected an integer from 1 to 65535, but it is missing']);
  });

  it('says only what was expected when it knows nothing of the input', () => {
    const r = z.object({ n: z.number() }).safeParse({ n: 'x' });
    expect(formatZodIssues(r.error?.issues ?? [])).toEqual(['n: expected a number']);
  });

  it('gives an unknown key a line of its own', () => {
    expect(lines(z.strictObject({ a: z.number() }), { a: 1, b: 2, c: 3 })).toEqual(['b: unknown key', 'c: unknown key']);
    expect(lines(z.object({ inner: strictObject({ a: z.number() }) }), { inner: { a: 1, b: 2 } })).toEqual([
      'inner.b: unknown key (the keys here are a)',
    ]);
  });

  it('appends the reason a custom rule gives', () => {
    const schema = z.object({ a: z.number() }).superRefine((v, ctx) =>
      ctx.addIssue({ code: 'custom', path: ['a'], message: 'expected an even number', params: { why: 'pairs' } }),
    );
    expect(lines(schema, { a: 3 })).toEqual(['a: expected an even number, got 3; pairs']);
  });
});

describe('describeIssues', () => {
  const schema = z.strictObject({ replicas: z.array(z.string()), leaseMs: z.number() });

  it('names the first field as a dotted path under the prefix, an unknown key by itself', () => {
    const error = schema.safeParse({ replicas: ['a', 1], leaseMs: 5, extra: true }).error!;
    const described = describeIssues(error, ['settings']);
    expect(described.field).toBe('settings.replicas.1');
    expect(described.message).toMatch(/^settings\.replicas\.1: .+; settings\.extra: /);
  });

  it('spells out at most three issues', () => {
    const error = z.array(z.number()).safeParse(['a', 'b', 'c', 'd', 'e']).error!;
    const described = describeIssues(error);
    expect(described.field).toBe('0');
    expect(described.message.split('; ')).toHaveLength(4);
    expect(described.message).toMatch(/; and 2 more$/);
  });
});
