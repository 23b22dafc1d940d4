/**
 * Reads that no linearization can explain, found without a search: the
 * common violations (a value never written, a write seen before it began, a
 * stale read) cost the search a full backtrack over everything before them,
 * while here they take one pass. Only certain violations are reported; the
 * search decides everything else.
 */
import { ABSENT, type SearchOp } from './key-history.js';

export interface CertainViolation {
  /** Index (into the ops) of the read. */
  readonly read: number;
  /** The read plus, for each write that could have produced its value, the acknowledged write that replaced it before the read began. */
  readonly witness: readonly number[];
}

/**
 * For each acknowledged write: the earliest return of an acknowledged write
 * of another value that began after it returned (Infinity if none). A read
 * that began after that time cannot see the write's value from this write.
 */
function replacedBy(ops: readonly SearchOp[]): { at: Float64Array; by: Int32Array } {
  const at = new Float64Array(ops.length).fill(Infinity);
  const by = new Int32Array(ops.length).fill(-1);
  const acked = ops.flatMap((o, i) => (o.write && o.ret !== Infinity ? [i] : [])).sort((a, b) => ops[a]!.invoke - ops[b]!.invoke);
  // From each position on (by invocation): the write that returns first, and the first to return among those of another value.
  const n = acked.length;
  const best = new Int32Array(n + 1).fill(-1);
  const second = new Int32Array(n + 1).fill(-1);
  const ret = (i: number): number => (i < 0 ? Infinity : ops[i]!.ret);
  for (let k = n - 1; k >= 0; k--) {
    const x = acked[k]!;
    let b = best[k + 1]!;
    let s = second[k + 1]!;
    if (ret(x) < ret(b)) {
      if (b >= 0 && ops[b]!.value !== ops[x]!.value) s = b;
      b = x;
    } else if (ops[x]!.value !== ops[b]!.value && ret(x) < ret(s)) s = x;
    best[k] = b;
    second[k] = s;
  }
  for (const w of acked) {
    const ow = ops[w]!;
    // First position whose write began after w returned.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ops[acked[mid]!]!.invoke > ow.ret) hi = mid;
      else lo = mid + 1;
    }
    const b = best[lo]!;
    const x = b >= 0 && ops[b]!.value !== ow.value ? b : second[lo]!;
    if (x >= 0) {
      at[w] = ops[x]!.ret;
      by[w] = x;
    }
  }
  return { at, by };
}

export function findCertainViolation(ops: readonly SearchOp[]): CertainViolation | undefined {
  const { at, by } = replacedBy(ops);
  const writersOf = new Map<number, number[]>();
  ops.forEach((o, i) => {
    if (!o.write) return;
    let list = writersOf.get(o.value);
    if (list === undefined) writersOf.set(o.value, (list = []));
    list.push(i);
  });
  // The initial "absent" as a write that returned before anything began.
  let initialReplacedAt = Infinity;
  let initialReplacedBy = -1;
  ops.forEach((o, i) => {
    if (o.write && o.value !== ABSENT && o.ret < initialReplacedAt) {
      initialReplacedAt = o.ret;
      initialReplacedBy = i;
    }
  });
  const reads = ops.flatMap((o, i) => (o.write ? [] : [i])).sort((a, b) => ops[a]!.ret - ops[b]!.ret);
  for (const r of reads) {
    const read = ops[r]!;
    const witness = [r];
    let possible = false;
    if (read.value === ABSENT) {
      if (initialReplacedAt < read.invoke) witness.push(initialReplacedBy);
      else possible = true;
    }
    for (const w of writersOf.get(read.value) ?? []) {
      if (possible) break;
      if (ops[w]!.invoke > read.ret) continue;
      if (at[w]! < read.invoke) witness.push(w, by[w]!);
      else possible = true;
    }
    if (!possible) return { read: r, witness: [...new Set(witness)] };
  }
  return undefined;
}
