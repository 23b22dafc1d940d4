/**
 * Checks a history for linearizability, key by key, against a register
 * whose initial value is "absent". A key's verdict is `ok`, a `violation`
 * with the operations that show it, or `unknown` when a bound stopped the
 * search: a bound never turns into a "yes".
 */
import type { HistoryOp } from '../history.js';
import { findCertainViolation } from './certain-violations.js';
import { partitionByKey, prepareKey, type KeyHistory } from './key-history.js';
import { minimizeViolation } from './minimize.js';
import { explainViolation } from './reasons.js';
import { searchRegister } from './search.js';
import { describeOp } from './describe.js';

export interface CheckOptions {
  /** Distinct search states per key before its verdict is `unknown`. */
  readonly maxStatesPerKey?: number;
  readonly timeBudgetMsPerKey?: number;
  /** Violations that get shrunk to the operations involved (each costs up to `explainBudgetMs`); later ones name only the operation the search got stuck at. */
  readonly explainViolations?: number;
  readonly explainBudgetMs?: number;
  /** Look for certain violations in one pass before searching (on by default; off, the search must find them itself). */
  readonly certainFirst?: boolean;
  /** Called after each key. */
  readonly onProgress?: (progress: CheckProgress) => void;
}

export interface CheckProgress {
  readonly keysDone: number;
  readonly keys: number;
  readonly opsDone: number;
  readonly ops: number;
}

export const DEFAULT_CHECK_OPTIONS = {
  maxStatesPerKey: 1_000_000,
  timeBudgetMsPerKey: 10_000,
  explainViolations: 10,
  explainBudgetMs: 2_000,
  certainFirst: true,
} as const;

export interface Violation {
  readonly key: string;
  readonly reason: string;
  /** The operations involved, by invocation: together they are not linearizable. */
  readonly ops: readonly HistoryOp[];
  /** False when shrinking was cut short or skipped: `ops` may then hold more than needed. */
  readonly minimal: boolean;
}

export type KeyVerdict =
  | { readonly key: string; readonly ops: number; readonly states: number; readonly verdict: 'ok' }
  | { readonly key: string; readonly ops: number; readonly states: number; readonly verdict: 'violation'; readonly violation: Violation }
  | { readonly key: string; readonly ops: number; readonly states: number; readonly verdict: 'unknown'; readonly bound: 'states' | 'time' };

export interface LinearizabilityReport {
  /** `no` as soon as one key has a violation; else `unknown` if a key hit a bound. */
  readonly verdict: 'yes' | 'no' | 'unknown';
  readonly keys: number;
  readonly ops: number;
  /** Keys per verdict. */
  readonly counts: Readonly<Record<KeyVerdict['verdict'], number>>;
  /** One per key, in order of first appearance. */
  readonly results: readonly KeyVerdict[];
  readonly violations: readonly Violation[];
}

function witnessed(history: readonly HistoryOp[], kh: KeyHistory, witness: readonly number[]): Violation {
  const ops = witness.map((i) => history[kh.ops[i]!.source]!).sort((a, b) => a.invoke - b.invoke);
  return { key: kh.key, reason: explainViolation(ops, kh.sources.map((i) => history[i]!)), ops, minimal: true };
}

function violationOf(history: readonly HistoryOp[], kh: KeyHistory, blocked: number, explain: boolean, budgetMs: number, maxStates: number): Violation {
  const keyOps = kh.sources.map((i) => history[i]!);
  if (!explain) {
    const stuck = history[kh.ops[blocked]!.source]!;
    return { key: kh.key, reason: `${describeOp(stuck)} cannot take effect within its interval`, ops: [stuck], minimal: false };
  }
  const shrunk = minimizeViolation(kh.ops, blocked, { maxStatesPerTrial: maxStates, deadline: performance.now() + budgetMs });
  const ops = shrunk.ops.map((o) => history[o.source]!).sort((a, b) => a.invoke - b.invoke);
  return { key: kh.key, reason: explainViolation(ops, keyOps), ops, minimal: shrunk.minimal };
}

type Settings = Required<Omit<CheckOptions, 'onProgress'>>;

/** `explain`: whether a violation gets shrunk to the operations involved. */
function checkKey(history: readonly HistoryOp[], kh: KeyHistory, o: Settings, explain: boolean): KeyVerdict {
  const base = { key: kh.key, ops: kh.sources.length };
  const certain = o.certainFirst ? findCertainViolation(kh.ops) : undefined;
  if (certain !== undefined) return { ...base, states: 0, verdict: 'violation', violation: witnessed(history, kh, certain.witness) };
  const r = searchRegister(kh.ops, { maxStates: o.maxStatesPerKey, deadline: performance.now() + o.timeBudgetMsPerKey });
  if (r.verdict === 'ok') return { ...base, states: r.states, verdict: 'ok' };
  if (r.verdict === 'bounded') return { ...base, states: r.states, verdict: 'unknown', bound: r.bound };
  const violation = violationOf(history, kh, r.blocked, explain, o.explainBudgetMs, o.maxStatesPerKey);
  return { ...base, states: r.states, verdict: 'violation', violation };
}

export function checkLinearizability(history: readonly HistoryOp[], options: CheckOptions = {}): LinearizabilityReport {
  const { onProgress, ...rest } = options;
  const o: Settings = { ...DEFAULT_CHECK_OPTIONS, ...rest };
  const byKey = partitionByKey(history);
  const results: KeyVerdict[] = [];
  const violations: Violation[] = [];
  let opsDone = 0;
  for (const [key, sources] of byKey) {
    const r = checkKey(history, prepareKey(history, key, sources), o, violations.length < o.explainViolations);
    results.push(r);
    if (r.verdict === 'violation') violations.push(r.violation);
    opsDone += sources.length;
    onProgress?.({ keysDone: results.length, keys: byKey.size, opsDone, ops: history.length });
  }
  const verdict = violations.length > 0 ? 'no' : results.some((r) => r.verdict === 'unknown') ? 'unknown' : 'yes';
  const counts = { ok: 0, violation: 0, unknown: 0 };
  for (const r of results) counts[r.verdict]++;
  return { verdict, keys: byKey.size, ops: history.length, counts, results, violations };
}
