import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `['coordinators', 1, 'apiPort']` → `coordinators[1].apiPort`; odd keys as `labels["rack id"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** The value found, in words: strings quoted, objects by kind (never dumped whole). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const quoted = JSON.stringify(value);
    return quoted.length > 60 ? `${quoted.slice(0, 57)}…"` : quoted;
  }
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : `an array of ${value.length}`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

/** A bound in words: `≥ 1` for numbers, `at most 3 items` for arrays, `at least 1 character` for text. */
function boundWords(origin: string, bound: number | bigint, side: 'min' | 'max', inclusive: boolean | undefined, exact: boolean | undefined): string {
  if (origin === 'number' || origin === 'int' || origin === 'bigint' || origin === 'date') {
    if (exact) return `expected ${bound}`;
    const op = side === 'min' ? (inclusive === false ? '>' : '≥') : inclusive === false ? '<' : '≤';
    return `expected ${op} ${bound}`;
  }
  const relation = exact ? 'exactly' : side === 'min' ? (inclusive === false ? 'more than' : 'at least') : inclusive === false ? 'fewer than' : 'at most';
  const unit = origin === 'string' ? 'character' : 'item';
  return `expected ${relation} ${bound} ${unit}${bound === 1 || bound === 1n ? '' : 's'}`;
}

/** An allowed value as the user would write it (JSON.stringify would throw on a bigint). */
const literal = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** What zod expected, in words, when the schema gave no words of its own. */
function expectedWords(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
    case 'too_small':
      return boundWords(issue.origin, issue.minimum, 'min', issue.inclusive, issue.exact);
    case 'too_big':
      return boundWords(issue.origin, issue.maximum, 'max', issue.inclusive, issue.exact);
    case 'invalid_format':
      if (issue.format === 'regex' && issue.pattern) return `expected text matching ${issue.pattern}`;
      if (issue.format === 'url') return 'expected a URL';
      return `expected a valid ${issue.format}`;
    case 'not_multiple_of':
      return `expected a multiple of ${issue.divisor}`;
    case 'invalid_value':
      return issue.values.length === 1 ? `expected ${literal(issue.values[0])}` : `expected one of ${issue.values.map(literal).join(', ')}`;
    case 'invalid_union':
      return 'expected one of the allowed forms';
    case 'invalid_key':
      return `invalid key (${issue.issues.map((i) => wordsOf(i)).join('; ')})`;
    case 'invalid_element':
      return 'invalid element';
    case 'unrecognized_keys':
      return 'unknown key';
    case 'custom':
      return 'invalid value';
  }
}

/** Messages the schemas wrote are lowercase phrases; zod's own start with a capital. */
const isOurs = (message: string): boolean => /^[a-z]/.test(message);

function wordsOf(issue: Issue): string {
  return isOurs(issue.message) ? issue.message : expectedWords(issue);
}

const MISSING = Symbol('missing');

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const key of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, key)) return MISSING;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/**
 * One line per problem, `path: expected …, got …`, e.g.
 * `coordinators[1].apiPort: expected an integer from 1 to 65535, got "70x"`.
 * The value found comes from the issue (parse with `reportInput: true`) or
 * from `input`, the value that was parsed. An unknown key gets one line per
 * key. A custom issue may explain itself in `params.why`, which is appended. Used for config files and for the API's 400 answers alike.
 */
export function formatZodIssues(issues: readonly Issue[], input?: unknown): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${formatPath([...issue.path, key])}: ${wordsOf(issue)}`);
      continue;
    }
    const where = formatPath(issue.path);
    let text = wordsOf(issue);
    if (issue.code !== 'invalid_key') {
      const found = 'input' in issue ? issue.input : valueAt(input, issue.path);
      if (found === MISSING || found === undefined) {
        // Only a missing key has no value; without `input` there is no telling.
        if (input !== undefined || 'input' in issue) text += ', but it is missing';
      } else text += `, got ${describeValue(found)}`;
    }
    // A cross-field rule can say why it exists; that goes after what was found.
    const why = issue.code === 'custom' ? issue.params?.['why'] : undefined;
    if (typeof why === 'string') text += `; ${why}`;
    lines.push(where === '' ? text : `${where}: ${text}`);
  }
  return lines;
}

// The API's answers name one field as a dotted path (`replicas.1`), the form
// clients match on; the lines above are for people reading a config error.

export interface FieldError {
  /** Dotted path of the first offending field (`replicas.1`, `settings.health.leaseMs`), or `(root)`. */
  readonly field: string;
  readonly message: string;
}

function fieldOf(issue: Issue, prefix: readonly string[]): string {
  const path = [...prefix, ...issue.path.map(String)];
  // An unknown key is reported on its parent; name the key itself.
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) path.push(issue.keys[0] ?? '');
  return path.length > 0 ? path.join('.') : '(root)';
}

/** At most a few issues are spelled out: one bad command should not make a megabyte of error. */
export function describeIssues(error: z.ZodError, prefix: readonly string[] = []): FieldError {
  const issues = error.issues;
  const first = issues[0];
  const parts = issues.slice(0, 3).map((i) => `${fieldOf(i, prefix)}: ${i.message}`);
  if (issues.length > 3) parts.push(`and ${issues.length - 3} more`);
  return { field: first ? fieldOf(first, prefix) : '(root)', message: parts.join('; ') };
}
