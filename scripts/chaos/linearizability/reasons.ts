/**
 * One sentence that says why a (minimized) key history is not linearizable,
 * for the shapes that come up: a read of a value never written, a write seen
 * before it was invoked, a stale read. Anything else is named as "no order
 * of these operations" with the operations listed beside it.
 */
import type { HistoryOp } from '../history.js';
import { describeOp, describeWrite, ms } from './describe.js';

const isWrite = (op: HistoryOp): boolean => op.op !== 'get';
/** `a` finished before `b` began: every linearization puts `a` first. */
const precedes = (a: HistoryOp, b: HistoryOp): boolean => a.outcome === 'ok' && a.complete! < b.invoke;

function loneRead(get: HistoryOp, keyOps: readonly HistoryOp[]): string | undefined {
  if (get.value === null) return undefined;
  const writers = keyOps.filter((o) => o.op === 'put' && o.value === get.value);
  const live = writers.filter((o) => o.outcome !== 'fail');
  if (live.length > 0) {
    // Alone, the read fails only when every put of its value came later.
    const first = live.reduce((a, b) => (b.invoke < a.invoke ? b : a));
    return `${describeOp(get)}, but ${get.value} was first written by put (client ${first.client}) invoked at ${ms(first.invoke)}, after the get completed`;
  }
  if (writers.length > 0) return `${describeOp(get)}, but the only put of ${get.value} failed: ${describeOp(writers[0]!)}`;
  return `${describeOp(get)}, a value no put of ${get.key} wrote`;
}

function staleRead(ops: readonly HistoryOp[]): string | undefined {
  const gets = ops.filter((o) => !isWrite(o));
  if (gets.length !== 1) return undefined;
  const get = gets[0]!;
  const writes = ops.filter(isWrite);
  const source = writes.filter((w) => w.value === get.value);
  const others = writes.filter((w) => w.value !== get.value);
  if (others.length !== 1 || source.length > 1) return undefined;
  const newer = others[0]!;
  if (!precedes(newer, get)) return undefined;
  const old = source[0];
  if (old === undefined) {
    return get.value === null ? `${describeOp(get)}, but ${describeWrite(newer)} had written ${get.key} before the get began` : undefined;
  }
  if (!precedes(old, newer)) return undefined;
  if (get.value === null) return `${describeOp(get)}, but ${get.key} was written again by ${describeWrite(newer)} after ${describeWrite(old)} and before the get began`;
  const verb = newer.op === 'delete' ? 'deleted' : 'overwritten';
  return `${describeOp(get)}, but ${get.value} was ${verb} by ${describeWrite(newer)} before the get began (${get.value} was written by ${describeWrite(old)})`;
}

/** `ops`: the minimized violation, by invocation; `keyOps`: every operation on the key, to say where a value came from. */
export function explainViolation(ops: readonly HistoryOp[], keyOps: readonly HistoryOp[]): string {
  const single = ops.length === 1 && ops[0]!.op === 'get' ? loneRead(ops[0]!, keyOps) : undefined;
  const reason = single ?? staleRead(ops);
  if (reason !== undefined) return reason;
  const lastGet = [...ops].reverse().find((o) => !isWrite(o));
  const head = lastGet ? `${describeOp(lastGet)}: ` : '';
  return `${head}no order of these ${ops.length} operations on ${ops[0]?.key ?? '?'} is legal for a register`;
}
