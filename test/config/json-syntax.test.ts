import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findJsonSyntaxProblem } from '../../src/config/index.js';

const parses = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

describe('findJsonSyntaxProblem', () => {
  it('finds nothing wrong in valid JSON', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.boolean(), (v, pretty) => findJsonSyntaxProblem(JSON.stringify(v, null, pretty ? 2 : 0)) === undefined));
  });

  it('agrees with JSON.parse on what is valid', () => {
    const alphabet = fc.constantFrom('{', '}', '[', ']', '"', ':', ',', ' ', '\n', '\\', 'u', '0', '1', '-', '.', 'e', 'a', 't', 'true', 'null', '"k"');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 12 }), (parts) => {
        const text = parts.join('');
        return (findJsonSyntaxProblem(text) === undefined) === parses(text);
      }),
      { numRuns: 5_000 },
    );
  });

  it('points at the line and column, counting characters, not bytes', () => {
    expect(findJsonSyntaxProblem('{\n  "a": 1\n  "b": 2\n}')).toMatchObject({
      line: 3,
      column: 3,
      problem: `expected ',' or '}' after a property value, found '"'`,
    });
    expect(findJsonSyntaxProblem('{"数字": x}')).toMatchObject({ line: 1, column: 8 });
    expect(findJsonSyntaxProblem('{"😀": x}')).toMatchObject({ line: 1, column: 7 });
    expect(findJsonSyntaxProblem('{"a": "b\nc"}')).toMatchObject({ line: 1, column: 9, problem: expect.stringMatching(/^expected no control character/) });
    expect(findJsonSyntaxProblem('{"a": 1} x')).toMatchObject({ column: 10, problem: "expected the end of the file after the JSON value, found 'x'" });
    expect(findJsonSyntaxProblem('{"a": 01}')).toMatchObject({ column: 8 });
    expect(findJsonSyntaxProblem('{"a"')).toMatchObject({ problem: "expected ':' after the property name, found the end of the file" });
    expect(findJsonSyntaxProblem('"\\x"')).toMatchObject({ column: 3 });
  });
});

describe('findJsonSyntaxProblem on deep input', () => {
  it('points at the error of a body nested far deeper than the call stack allows', () => {
    const depth = 1_000_000;
    const text = '['.repeat(depth) + '1,' + ']'.repeat(depth);
    expect(findJsonSyntaxProblem(text)).toMatchObject({ offset: depth + 2, line: 1, problem: expect.stringContaining("expected a value (no comma before ']')") });
  });

  it('accepts valid deep nesting of objects and arrays', () => {
    const depth = 200_000;
    expect(findJsonSyntaxProblem('{"a":['.repeat(depth) + 'null' + ']}'.repeat(depth))).toBeUndefined();
  });
});
