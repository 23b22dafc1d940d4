/**
 * The figures a chaos run prints, computed from what it recorded (pure):
 * the fault timeline, each leader failover's duration, the longest
 * unavailability per shard, the counts per op kind and outcome, and the
 * closing line.
 */
import type { HistoryOp, HistoryOpKind, HistoryOutcome } from './history.js';
import type { AdminEntry, TimelineEntry } from './faults.js';
import type { LeaderObservation } from './monitor.js';
import { hitsLeader, type FaultKind } from './schedule.js';

export interface Failover {
  readonly n: number;
  readonly kind: string;
  readonly from: string;
  readonly to: string | undefined;
  /** From the fault to a leader other than `from` (or `from` again in a later term) agreed by a majority; undefined: none seen before the next fault ended it. */
  readonly newLeaderMs: number | undefined;
  /** From the fault to the completion of the first acknowledged write invoked after it. */
  readonly firstWriteMs: number | undefined;
}

export function failovers(timeline: readonly TimelineEntry[], observations: readonly LeaderObservation[], history: readonly HistoryOp[]): Failover[] {
  const writes = history.filter((h) => h.op !== 'get' && h.outcome === 'ok');
  const out: Failover[] = [];
  for (const t of timeline) {
    if (t.skipped || t.leaderBefore === undefined || !hitsLeader(t.kind as FaultKind)) continue;
    const before = [...observations].reverse().find((o) => o.atMs <= t.startedAtMs && o.leader !== undefined);
    const next = observations.find((o) => o.atMs >= t.startedAtMs && o.leader !== undefined && (o.leader !== t.leaderBefore || (before?.term !== undefined && o.term! > before.term)));
    const firstWrite = writes.filter((w) => w.invoke >= t.startedAtMs).reduce<number | undefined>((m, w) => (m === undefined || w.complete! < m ? w.complete! : m), undefined);
    out.push({
      n: t.n,
      kind: t.kind,
      from: t.leaderBefore,
      to: next?.leader,
      newLeaderMs: next === undefined ? undefined : next.atMs - t.startedAtMs,
      firstWriteMs: firstWrite === undefined ? undefined : firstWrite - t.startedAtMs,
    });
  }
  return out;
}

export interface ShardGap {
  readonly shard: number;
  readonly gapMs: number;
  readonly fromMs: number;
  readonly toMs: number;
  readonly okOps: number;
}

/**
 * Per shard, the longest stretch of the workload's window [startMs, endMs]
 * without an acknowledged operation (read or write) on a key of that shard.
 */
export function unavailabilityPerShard(history: readonly HistoryOp[], shardOf: (key: string) => number, shards: number, startMs: number, endMs: number): ShardGap[] {
  const done: number[][] = Array.from({ length: shards }, () => []);
  for (const h of history) if (h.outcome === 'ok' && h.complete !== null) done[shardOf(h.key)]!.push(h.complete);
  return done.map((times, shard) => {
    const sorted = [startMs, ...times.filter((t) => t >= startMs && t <= endMs).sort((a, b) => a - b), endMs];
    let best = { gapMs: 0, fromMs: startMs, toMs: startMs };
    for (let i = 1; i < sorted.length; i++) {
      const gap = sorted[i]! - sorted[i - 1]!;
      if (gap > best.gapMs) best = { gapMs: gap, fromMs: sorted[i - 1]!, toMs: sorted[i]! };
    }
    return { shard, ...best, okOps: times.length };
  });
}

export type Counts = Record<HistoryOpKind, Record<HistoryOutcome, number>>;

export function countOutcomes(history: readonly HistoryOp[]): Counts {
  const zero = (): Record<HistoryOutcome, number> => ({ ok: 0, fail: 0, unknown: 0 });
  const c: Counts = { put: zero(), get: zero(), delete: zero() };
  for (const h of history) c[h.op][h.outcome]++;
  return c;
}

export interface Verdicts {
  /** yes / no / unknown (a bound of the checker stopped it). */
  readonly linearizable: 'yes' | 'no' | 'unknown';
  readonly lost: number;
  readonly converged: boolean;
}

export function passed(v: Verdicts): boolean {
  return v.linearizable === 'yes' && v.lost === 0 && v.converged;
}

/** `chaos: linearizable=yes lost=0 converged=yes`, and on failure the seed and the command that replays it. */
export function closingLines(v: Verdicts, replay: { seed: number; durationS: number; extra: string }): string[] {
  const line = `chaos: linearizable=${v.linearizable} lost=${v.lost} converged=${v.converged ? 'yes' : 'no'}`;
  if (passed(v)) return [line];
  return [`chaos: FAILED with seed ${replay.seed}; replay: npm run chaos -- --duration ${replay.durationS} --seed ${replay.seed}${replay.extra}`, line];
}

const sec = (ms: number | undefined): string => (ms === undefined ? '   —  ' : `${(ms / 1000).toFixed(2).padStart(6)}`);

export function describeTimeline(timeline: readonly TimelineEntry[], admin: readonly AdminEntry[]): string[] {
  const lines = ['fault timeline (s from the start):', '     at  healed  fault                   target                  note'];
  for (const t of timeline) {
    lines.push(`  ${sec(t.startedAtMs)}  ${t.skipped ? ' skip ' : sec(t.healedAtMs)}  ${t.kind.padEnd(22)}  ${(t.target || '—').padEnd(22)}  ${t.note}`);
  }
  if (admin.length > 0) {
    lines.push('admin operations:');
    for (const a of admin) lines.push(`  ${sec(a.atMs)}  ${a.kind.padEnd(16)}  ${(a.target || '—').padEnd(40)}  ${a.result}`);
  }
  return lines;
}

export function describeFailovers(f: readonly Failover[]): string[] {
  if (f.length === 0) return ['leader failovers: none (no fault hit a leader)'];
  const lines = ['leader failovers (s from the fault to a new leader agreed by a majority / to the first acknowledged write invoked after it):'];
  for (const x of f) lines.push(`  fault ${String(x.n).padStart(3)} ${x.kind.padEnd(15)} ${x.from} → ${(x.to ?? '—').padEnd(3)}  leader ${sec(x.newLeaderMs)}  write ${sec(x.firstWriteMs)}`);
  const leaders = f.map((x) => x.newLeaderMs).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  if (leaders.length > 0) {
    const p = (q: number) => leaders[Math.min(leaders.length - 1, Math.ceil(q * leaders.length) - 1)]!;
    lines.push(`  new leader: n ${leaders.length}, p50 ${sec(p(0.5)).trim()} s, p90 ${sec(p(0.9)).trim()} s, max ${sec(leaders.at(-1)).trim()} s`);
  }
  return lines;
}

export function describeGaps(gaps: readonly ShardGap[]): string[] {
  return [
    'longest unavailability per shard (longest gap between acknowledged operations on its keys):',
    ...gaps.map((g) => `  shard ${g.shard}: ${sec(g.gapMs).trim()} s (from ${sec(g.fromMs).trim()} to ${sec(g.toMs).trim()} s; ${g.okOps} acknowledged ops)`),
  ];
}

export function describeCounts(c: Counts): string[] {
  const lines = ['operations:        ok    fail  unknown'];
  for (const k of ['put', 'get', 'delete'] as const) lines.push(`  ${k.padEnd(8)} ${String(c[k].ok).padStart(8)} ${String(c[k].fail).padStart(7)} ${String(c[k].unknown).padStart(8)}`);
  return lines;
}
