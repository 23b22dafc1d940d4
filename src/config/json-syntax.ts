/** Where a JSON text first goes wrong: 1-based line and column, and what was wrong there. */
export interface JsonSyntaxProblem {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
  readonly problem: string;
}

class Stop {
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {}
}

function found(text: string, i: number): string {
  if (i >= text.length) return 'the end of the file';
  const c = text[i] as string;
  if (c === '\n' || c === '\r') return 'a line break';
  return `'${c}'`;
}

/**
 * Finds the first syntax error of a JSON text (strict JSON, RFC 8259).
 * V8's JSON.parse says "Unexpected token" without a position for several
 * errors, so this scan exists to point at a line and column every time.
 * Returns undefined for valid JSON.
 */
export function findJsonSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
  let i = 0;
  const fail = (problem: string): never => {
    throw new Stop(i, `${problem}, found ${found(text, i)}`);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail('expected the closing \'"\' of a string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail('expected no control character inside a string (write \\n for a line break)');
      if (c === 0x5c) {
        i++;
        const e = text[i];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('expected four hex digits after \\u');
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else fail('expected one of " \\ / b f n r t u after a backslash');
      } else i++;
    }
  };
  const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
  const number = () => {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m === null) fail('expected a number');
    i = NUMBER.lastIndex;
    if (/[\d.eE]/.test(text[i] ?? '')) fail('expected the end of the number (no leading zeros, a digit after "." and "e")');
  };
  // Containers are tracked on an explicit stack, not by recursion: a body nested
  // a million levels deep must get its line and column, not a stack overflow.
  const open: ('{' | '[')[] = [];
  /** One scalar, or the opening of a container (pushed on `open`). */
  const valueStart = (): void => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      i++;
      open.push(c);
      return;
    }
    if (c === '"') return string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    fail('expected a value (an object, array, string, number, true, false or null)');
  };
  const member = (): void => {
    ws();
    if (text[i] !== '"') fail(text[i] === '}' ? "expected a property name in double quotes (no comma before '}')" : 'expected a property name in double quotes');
    string();
    ws();
    if (text[i] !== ':') fail("expected ':' after the property name");
    i++;
    valueStart();
  };
  const element = (): void => {
    ws();
    if (text[i] === ']') fail("expected a value (no comma before ']')");
    valueStart();
  };
  const document = (): void => {
    valueStart();
    // Each pass handles the container on top of the stack right after an opening or a value.
    let justOpened = open.length > 0;
    while (open.length > 0) {
      const depth = open.length;
      const top = open[depth - 1] as '{' | '[';
      const close = top === '{' ? '}' : ']';
      ws();
      if (justOpened && text[i] === close) {
        i++;
        open.pop();
        justOpened = false;
        continue;
      }
      if (!justOpened) {
        if (text[i] === close) {
          i++;
          open.pop();
          continue;
        }
        if (text[i] !== ',') fail(top === '{' ? "expected ',' or '}' after a property value" : "expected ',' or ']' after an array element");
        i++;
      }
      if (top === '{') member();
      else element();
      justOpened = open.length > depth;
    }
  };

  try {
    document();
    ws();
    if (i < text.length) fail('expected the end of the file after the JSON value');
    return undefined;
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    const before = text.slice(0, e.offset);
    const lineStart = before.lastIndexOf('\n') + 1;
    return {
      offset: e.offset,
      line: before.split('\n').length,
      column: Array.from(before.slice(lineStart)).length + 1,
      problem: e.problem,
    };
  }
}
