/**
 * Check (b) of a chaos run: after healing, every key holds what its last
 * write left. A write can be last when no acknowledged write began after it
 * completed (an unknown write can always be last: it may take effect at any
 * time after its invocation). If the value read at the end is none of those
 * writes' values (nor "absent" while no write was acknowledged), the
 * acknowledged ones among them are lost: nothing that came later replaced them.
 */
import type { HistoryOp } from '../history.js';
import { partitionByKey } from './key-history.js';

export interface LostWrite {
  readonly key: string;
  /** What the final read returned (null: not found). */
  readonly found: string | null;
  /** The acknowledged writes that could each have been the last one, none of which the final read shows. */
  readonly writes: readonly HistoryOp[];
}

export interface LostWritesReport {
  readonly lost: readonly LostWrite[];
  /** Keys with an acknowledged write that the final reads do not mention: not checked. */
  readonly unread: readonly string[];
}

const isWrite = (op: HistoryOp): boolean => op.op !== 'get' && op.outcome !== 'fail';

export function findLostWrites(history: readonly HistoryOp[], finalValues: ReadonlyMap<string, string | null>): LostWritesReport {
  const lost: LostWrite[] = [];
  const unread: string[] = [];
  for (const [key, sources] of partitionByKey(history)) {
    const writes = sources.map((i) => history[i]!).filter(isWrite);
    const acked = writes.filter((w) => w.outcome === 'ok');
    if (acked.length === 0) continue;
    if (!finalValues.has(key)) {
      unread.push(key);
      continue;
    }
    const found = finalValues.get(key)!;
    // The acknowledged write that began last bounds what can come after: a write that completed before it began cannot be last.
    const lastStart = acked.reduce((t, w) => Math.max(t, w.invoke), 0);
    const canBeLast = writes.filter((w) => w.outcome === 'unknown' || w.complete! >= lastStart);
    if (canBeLast.some((w) => w.value === found)) continue;
    lost.push({ key, found, writes: canBeLast.filter((w) => w.outcome === 'ok') });
  }
  return { lost, unread };
}
