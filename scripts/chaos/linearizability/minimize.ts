/**
 * Shrinks a non-linearizable key history to a few operations that are not
 * linearizable on their own, so that a report can name the operations
 * involved instead of the thousand around them.
 *
 * Shrinking only ever loosens the history, so that it cannot invent a
 * violation the real history does not have: a read is dropped (one read
 * fewer constrains less), a write is made optional (it may take effect any
 * time after its call, or never), and an optional write whose value no
 * remaining read returned is dropped (leaving it out is as good as any
 * place for it). Whatever still fails after that fails in the history too.
 */
import type { SearchOp } from './key-history.js';
import { searchRegister } from './search.js';

export interface MinimizeBounds {
  /** For each trial search; a trial that hits it counts as "still linearizable" (the operations stay). */
  readonly maxStatesPerTrial: number;
  /** performance.now() after which shrinking stops with what it has (still a violation, maybe not minimal). */
  readonly deadline: number;
}

export interface Minimized {
  readonly ops: readonly SearchOp[];
  /** False when the deadline cut shrinking short. */
  readonly minimal: boolean;
}

const optional = (o: SearchOp): SearchOp => (o.ret === Infinity ? o : { ...o, ret: Infinity });

/** Drops optional writes whose value no read returned. */
function withoutUnreadOptionals(ops: readonly SearchOp[]): SearchOp[] {
  const read = new Set<number>();
  for (const o of ops) if (!o.write) read.add(o.value);
  return ops.filter((o) => !o.write || o.ret !== Infinity || read.has(o.value));
}

/**
 * The history up to the return the search could not get past: the
 * operations invoked by then, those still running then loosened (a pending
 * read dropped, a pending write optional). Operations invoked later are
 * linearized after every operation that returned by then, so they cannot
 * matter, and the search never got beyond that return: the prefix fails.
 */
function prefixUpTo(ops: readonly SearchOp[], cut: number): SearchOp[] {
  const out: SearchOp[] = [];
  for (const o of ops) {
    if (o.invoke > cut) continue;
    if (o.ret <= cut) out.push(o);
    else if (o.write) out.push(optional(o));
  }
  return withoutUnreadOptionals(out);
}

type Loosen = 'reads' | 'writes' | 'both';

/** `ops` with those of the kind in [from, to) loosened. */
function loosen(ops: readonly SearchOp[], from: number, to: number, kind: Loosen): SearchOp[] {
  const out: SearchOp[] = [];
  ops.forEach((o, i) => {
    if (i < from || i >= to || (kind === 'reads' && o.write)) out.push(o);
    else if (o.write) out.push(kind === 'reads' ? o : optional(o));
    else if (kind === 'writes') out.push(o);
  });
  return withoutUnreadOptionals(out);
}

/** Shrinking makes progress when it drops an operation or makes a write optional. */
const weight = (ops: readonly SearchOp[]): number => ops.reduce((n, o) => n + (o.ret === Infinity ? 1 : 2), 0);

/**
 * Loosens chunks of `kind`, halving their size; the last size (1) repeats
 * until nothing more gives. Undefined when the deadline passed.
 */
function shrink(start: readonly SearchOp[], kind: Loosen, fails: (ops: readonly SearchOp[]) => boolean, deadline: number): readonly SearchOp[] | undefined {
  let current = start;
  let chunk = 1;
  while (chunk * 2 <= current.length / 2) chunk *= 2;
  for (;;) {
    let progress = false;
    for (let at = 0; at < current.length; ) {
      if (performance.now() > deadline) return undefined;
      const candidate = loosen(current, at, at + chunk, kind);
      if (weight(candidate) < weight(current) && fails(candidate)) {
        // Positions shift when operations go, so look at the same place again.
        current = candidate;
        progress = true;
      } else at += chunk;
    }
    if (chunk > 1) chunk >>= 1;
    else if (!progress) return current;
  }
}

export function minimizeViolation(ops: readonly SearchOp[], blocked: number, bounds: MinimizeBounds): Minimized {
  const fails = (candidate: readonly SearchOp[]): boolean =>
    candidate.length > 0 && searchRegister(candidate, { maxStates: bounds.maxStatesPerTrial, deadline: bounds.deadline }).verdict === 'violation';
  const prefix = prefixUpTo(ops, ops[blocked]!.ret);
  let current: readonly SearchOp[] = fails(prefix) ? prefix : ops;
  // Reads go first, so that the witness keeps the acknowledged writes that
  // make a read stale rather than a chain of reads around optional writes.
  for (const kind of ['reads', 'writes', 'both'] as const) {
    const next = shrink(current, kind, fails, bounds.deadline);
    if (next === undefined) return { ops: current, minimal: false };
    current = next;
  }
  return { ops: current, minimal: true };
}
