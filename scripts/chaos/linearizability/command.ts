/**
 * `npm run check-history -- FILE [--final FILE2]`: checks a chaos history
 * for linearizability per key and, given the final reads, for lost
 * acknowledged writes. Prints the problems per key and one closing line,
 * `check-history: linearizable=yes|no|unknown keys=N ops=M` (plus `lost=L`
 * with --final). Exit code: 0 all well, 1 a violation or a lost write,
 * 2 a key too large to decide (and nothing worse), 3 bad usage or input.
 */
import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isClusterError } from '../../../src/errors/index.js';
import { formatHistoryLine, parseFinalReads, parseHistory } from '../history.js';
import { checkLinearizability, DEFAULT_CHECK_OPTIONS, type CheckProgress, type KeyVerdict, type LinearizabilityReport } from './checker.js';
import { describeWrite, returned } from './describe.js';
import { findLostWrites, type LostWritesReport } from './lost-writes.js';

export const EXIT_OK = 0;
export const EXIT_VIOLATION = 1;
export const EXIT_UNDECIDED = 2;
export const EXIT_USAGE = 3;

/** A V8 string holds at most ~512 MiB; a history that large is not one run's. */
const MAX_FILE_BYTES = 256 * 1024 * 1024;
const PROGRESS_EVERY_MS = 1_000;

export const USAGE =
  'usage: npm run check-history -- FILE [--final FILE2] [--show N] [--max-states N] [--time-budget-ms MS]\n' +
  '  FILE    the history, one JSON operation per line\n' +
  '  --final the reads after healing, one {"key", "value"} per line: checks that no acknowledged write is lost\n' +
  `  --show  violations printed in full (default 10)\n` +
  `  --max-states, --time-budget-ms  per-key search bounds (default ${DEFAULT_CHECK_OPTIONS.maxStatesPerKey} states, ${DEFAULT_CHECK_OPTIONS.timeBudgetMsPerKey} ms); a key that hits one is "unknown"\n` +
  'exit: 0 linearizable, 1 violation or lost write, 2 undecided (a bound was hit), 3 bad usage or input\n';

export interface CommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

class UsageError extends Error {}

function intFlag(v: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: expected an integer from ${min} to ${max}, got "${v}"`);
  return n;
}

async function readText(path: string, what: string): Promise<string> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw new UsageError(`cannot read the ${what} ${path}: ${(e as Error).message}`);
  }
  if (size > MAX_FILE_BYTES) throw new UsageError(`the ${what} ${path} has ${size} bytes, more than the ${MAX_FILE_BYTES} this command reads`);
  return readFile(path, 'utf8');
}

function keyProblemLines(r: KeyVerdict): string[] {
  if (r.verdict === 'ok') return [];
  if (r.verdict === 'unknown') {
    const bound = r.bound === 'states' ? `${r.states} states explored` : 'time budget spent';
    return [`key ${r.key}: unknown (too large: ${bound} over ${r.ops} operations)`];
  }
  const v = r.violation;
  return [
    `key ${r.key}: NOT LINEARIZABLE: ${v.reason}`,
    `  operations involved${v.minimal ? '' : ' (not minimized)'}:`,
    ...v.ops.map((op) => `    ${formatHistoryLine(op)}`),
  ];
}

function lostLines(report: LostWritesReport): string[] {
  const lines = report.lost.map(
    (l) => `key ${l.key}: LOST WRITE: the final read returned ${returned(l.found)}, but the last acknowledged write was ${l.writes.map(describeWrite).join(' or ')}`,
  );
  if (report.unread.length > 0) {
    const some = report.unread.slice(0, 5).join(', ');
    lines.push(`warning: ${report.unread.length} keys with acknowledged writes have no final read (not checked): ${some}${report.unread.length > 5 ? ', …' : ''}`);
  }
  return lines;
}

function printReport(io: CommandIo, report: LinearizabilityReport, show: number): void {
  let shownViolations = 0;
  for (const r of report.results) {
    if (r.verdict === 'violation' && shownViolations++ >= show) continue;
    for (const line of keyProblemLines(r)) io.out(`${line}\n`);
  }
  if (shownViolations > show) io.out(`… and ${shownViolations - show} more keys that are not linearizable\n`);
}

export async function checkHistoryCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (e) {
    if (!(e instanceof UsageError) && !isClusterError(e)) throw e;
    io.err(`check-history: ${(e as Error).message}\n${e instanceof UsageError ? USAGE : ''}`);
    return EXIT_USAGE;
  }
}

async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        final: { type: 'string' },
        show: { type: 'string' },
        'max-states': { type: 'string' },
        'time-budget-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    io.out(USAGE);
    return EXIT_OK;
  }
  if (parsed.positionals.length !== 1) throw new UsageError(`expected one history file, got ${parsed.positionals.length}`);
  const show = intFlag(v.show, 'show', 10, 0, 10_000);
  const maxStatesPerKey = intFlag(v['max-states'], 'max-states', DEFAULT_CHECK_OPTIONS.maxStatesPerKey, 1, 100_000_000);
  const timeBudgetMsPerKey = intFlag(v['time-budget-ms'], 'time-budget-ms', DEFAULT_CHECK_OPTIONS.timeBudgetMsPerKey, 1, 3_600_000);

  const file = parsed.positionals[0]!;
  const history = parseHistory(await readText(file, 'history'));
  const finalValues = v.final === undefined ? undefined : parseFinalReads(await readText(v.final, 'final reads'));

  let lastProgress = performance.now();
  const onProgress = (p: CheckProgress): void => {
    const now = performance.now();
    if (now - lastProgress < PROGRESS_EVERY_MS) return;
    lastProgress = now;
    io.err(`check-history: ${p.keysDone}/${p.keys} keys, ${p.opsDone}/${p.ops} operations checked\n`);
  };
  const report = checkLinearizability(history, { maxStatesPerKey, timeBudgetMsPerKey, explainViolations: show, onProgress });
  printReport(io, report, show);
  let lost = '';
  let lostCount = 0;
  if (finalValues !== undefined) {
    const lw = findLostWrites(history, finalValues);
    for (const line of lostLines(lw)) io.out(`${line}\n`);
    lostCount = lw.lost.length;
    lost = ` lost=${lostCount}`;
  }
  io.out(`check-history: linearizable=${report.verdict} keys=${report.keys} ops=${report.ops}${lost}\n`);
  if (report.verdict === 'no' || lostCount > 0) return EXIT_VIOLATION;
  return report.verdict === 'unknown' ? EXIT_UNDECIDED : EXIT_OK;
}
