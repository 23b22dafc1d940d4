/**
 * One key's operations as the search sees them. Linearizability is local
 * (Herlihy & Wing): a history is linearizable iff each key's sub-history is,
 * so keys are checked one at a time.
 */
import type { HistoryOp } from '../history.js';

/** Value id 0 is "absent", the register's initial state. */
export const ABSENT = 0;

export interface SearchOp {
  /** Index of the operation in the whole history, to report it. */
  readonly source: number;
  readonly write: boolean;
  /** Interned value: written, or returned by a read. */
  readonly value: number;
  readonly invoke: number;
  /** Infinity for a write whose outcome is unknown: it may take effect at any time after its invocation, or never. */
  readonly ret: number;
}

export interface KeyHistory {
  readonly key: string;
  /** Indices into the whole history of every operation on this key, in history order. */
  readonly sources: readonly number[];
  /** What the search checks, sorted by invocation. */
  readonly ops: readonly SearchOp[];
}

/** Indices of the operations on each key, in history order. */
export function partitionByKey(history: readonly HistoryOp[]): Map<string, number[]> {
  const byKey = new Map<string, number[]>();
  history.forEach((op, i) => {
    let list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, (list = []));
    list.push(i);
  });
  return byKey;
}

/**
 * Drops what carries no information: failed operations (they did not take
 * effect) and gets that failed or timed out (no value came back). An unknown
 * write whose value no successful get returned is dropped too: if it took
 * effect, no read saw its value before the next write replaced it, so the
 * same order without it is as legal (and it would only slow the search).
 */
export function prepareKey(history: readonly HistoryOp[], key: string, sources: readonly number[]): KeyHistory {
  const ids = new Map<string | null, number>([[null, ABSENT]]);
  const intern = (v: string | null): number => {
    let id = ids.get(v);
    if (id === undefined) ids.set(v, (id = ids.size));
    return id;
  };
  const read = new Set<string | null>();
  for (const i of sources) {
    const op = history[i]!;
    if (op.op === 'get' && op.outcome === 'ok') read.add(op.value);
  }
  const ops: SearchOp[] = [];
  for (const source of sources) {
    const op = history[source]!;
    if (op.outcome === 'fail') continue;
    const write = op.op !== 'get';
    if (!write && op.outcome !== 'ok') continue;
    if (write && op.outcome === 'unknown' && !read.has(op.value)) continue;
    const ret = op.outcome === 'ok' ? op.complete! : Infinity;
    ops.push({ source, write, value: intern(op.value), invoke: op.invoke, ret });
  }
  ops.sort((a, b) => a.invoke - b.invoke || a.ret - b.ret || a.source - b.source);
  return { key, sources, ops };
}
