/**
 * The two files a chaos run writes, one JSON object per line:
 *
 * - the history: every KV operation a client ran,
 *   `{"client": 3, "op": "put", "key": "k7", "value": "v123", "invoke": 1234.5, "complete": 1236.1, "outcome": "ok"}`.
 *   Times are ms from the start of the run. A get's value is what it returned
 *   (null: not found), a put's what it wrote, a delete's null. `fail`: it
 *   certainly did not take effect; `unknown`: it may have, at any time after
 *   its invocation (`complete` is then null or when the client gave up).
 * - the final reads: what each key held after healing, `{"key": "k7", "value": "v123" | null}`.
 *
 * Both are checked line by line; an error names the line and the field.
 */
import { z } from 'zod';
import { keyProblem } from '../../src/common/data-key.js';
import { findJsonSyntaxProblem, formatZodIssues, intInRange, numberInRange, strictObject } from '../../src/config/index.js';
import { ClusterError, ClusterErrorCode } from '../../src/errors/index.js';

/** About 115 days in ms: far beyond any run, small enough that sums stay exact. */
export const MAX_TIME_MS = 1e10;
export const MAX_CLIENT = 1_000_000;
/** Chaos values are short tags; a longer one is a corrupt file, not a workload. */
export const MAX_VALUE_CHARS = 1 << 20;
/** Lines read at most from one file (the history of a very long run is a few million). */
export const MAX_LINES = 20_000_000;
/** Bad lines spelled out in one error before the rest are only counted. */
const MAX_BAD_LINES = 10;

const keySchema = z.string({ error: 'expected a key (a string)' }).superRefine((key, ctx) => {
  const problem = keyProblem(key);
  // The words of the data-key rule, minus what it found: the issue's formatter says that.
  if (problem !== undefined) ctx.addIssue({ code: 'custom', input: key, message: problem.replace(/^key: /, '').replace(/, got .*$/, '') });
});

const valueSchema = z.string({ error: 'expected a string or null' }).max(MAX_VALUE_CHARS).nullable();
const timeSchema = numberInRange(0, MAX_TIME_MS);

const historyLineSchema = strictObject({
  client: intInRange(0, MAX_CLIENT),
  op: z.enum(['put', 'get', 'delete']),
  key: keySchema,
  value: valueSchema,
  invoke: timeSchema,
  complete: timeSchema.nullable(),
  outcome: z.enum(['ok', 'fail', 'unknown']),
}).superRefine((line, ctx) => {
  // Each issue carries the field's value as `input`: the formatter adds "got …".
  if (line.op === 'put' && line.value === null) ctx.addIssue({ code: 'custom', path: ['value'], input: null, message: 'expected the string a put wrote' });
  if (line.op === 'delete' && line.value !== null) ctx.addIssue({ code: 'custom', path: ['value'], input: line.value, message: 'expected null for a delete' });
  if (line.complete === null && line.outcome !== 'unknown') {
    ctx.addIssue({ code: 'custom', path: ['complete'], input: null, message: `expected the completion time of an operation whose outcome is "${line.outcome}"` });
  }
  if (line.complete !== null && line.complete < line.invoke) {
    ctx.addIssue({ code: 'custom', path: ['complete'], input: line.complete, message: `expected a time ≥ invoke (${line.invoke})` });
  }
});

export type HistoryOpKind = 'put' | 'get' | 'delete';
export type HistoryOutcome = 'ok' | 'fail' | 'unknown';

export interface HistoryOp {
  readonly client: number;
  readonly op: HistoryOpKind;
  readonly key: string;
  readonly value: string | null;
  readonly invoke: number;
  readonly complete: number | null;
  readonly outcome: HistoryOutcome;
}

export interface FinalRead {
  readonly key: string;
  readonly value: string | null;
}

const finalReadSchema = strictObject({ key: keySchema, value: valueSchema });

function invalid(issues: string[], what: string): ClusterError {
  const shown = issues.slice(0, 3);
  if (issues.length > 3) shown.push(`and ${issues.length - 3} more`);
  return new ClusterError({ code: ClusterErrorCode.InvalidInput, issues }, `invalid ${what}: ${shown.join('; ')}`);
}

/**
 * Parses one object per non-blank line with `schema`; throws a ClusterError
 * (INVALID_INPUT) whose issues read `line 12: complete: expected …, got …`.
 */
function parseLines<T>(text: string, schema: z.ZodType<T>, what: string): T[] {
  const out: T[] = [];
  const issues: string[] = [];
  let badLines = 0;
  let lineNo = 0;
  let start = text.startsWith('\uFEFF') ? 1 : 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).trim();
    start = end + 1;
    lineNo++;
    if (lineNo > MAX_LINES) {
      issues.push(`more than ${MAX_LINES} lines`);
      break;
    }
    if (line === '') continue;
    const problems = lineProblems(line, schema);
    if (problems.ok) {
      out.push(problems.value);
      continue;
    }
    if (++badLines <= MAX_BAD_LINES) issues.push(...problems.lines.map((p) => `line ${lineNo}: ${p}`));
  }
  if (badLines > MAX_BAD_LINES) issues.push(`${badLines - MAX_BAD_LINES} more bad lines`);
  if (issues.length > 0) throw invalid(issues, what);
  return out;
}

function lineProblems<T>(line: string, schema: z.ZodType<T>): { ok: true; value: T } | { ok: false; lines: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    const where = findJsonSyntaxProblem(line);
    return { ok: false, lines: [where ? `invalid JSON at column ${where.column}: ${where.problem}` : `invalid JSON: ${(e as Error).message}`] };
  }
  const parsed = schema.safeParse(value, { reportInput: true });
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, lines: formatZodIssues(parsed.error.issues, value) };
}

/** The operations of a history file, in file order. */
export function parseHistory(text: string): HistoryOp[] {
  return parseLines(text, historyLineSchema, 'history');
}

/** One history line (without the line break), fields in the documented order. */
export function formatHistoryLine(op: HistoryOp): string {
  return JSON.stringify({
    client: op.client,
    op: op.op,
    key: op.key,
    value: op.value,
    invoke: op.invoke,
    complete: op.complete,
    outcome: op.outcome,
  });
}

/** Key → value read after healing (null: not found). A key read twice is an error: which read counts? */
export function parseFinalReads(text: string): Map<string, string | null> {
  const reads = parseLines(text, finalReadSchema, 'final reads');
  const out = new Map<string, string | null>();
  const repeated: string[] = [];
  for (const r of reads) {
    if (out.has(r.key)) repeated.push(`key ${JSON.stringify(r.key)} is read more than once`);
    out.set(r.key, r.value);
  }
  if (repeated.length > 0) throw invalid(repeated, 'final reads');
  return out;
}

export function formatFinalReadLine(read: FinalRead): string {
  return JSON.stringify({ key: read.key, value: read.value });
}
