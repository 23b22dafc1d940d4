/**
 * The seeded fault and admin schedule of a chaos run: one seed decides the
 * order, the kinds, the targets (by role or by name) and the timings. Pure:
 * no clock, no I/O, so a seed's schedule can be printed, tested and replayed.
 *
 * Faults run in two lanes so that a quorum and a copy of every shard usually
 * survive: a coordinator lane (one coordinator fault at a time; 3 replicas
 * keep a majority) and a data-node lane (one data-node fault at a time; RF 2
 * keeps a copy). At most two faults are therefore active at once. Every
 * fault heals after a bounded time, and none starts in the last stretch of
 * the run, so the cluster is whole before the checks.
 */
import { SeededRng } from '../../src/raft/rng.js';

export type CoordinatorFaultKind =
  | 'kill-leader'
  | 'kill-follower'
  | 'stop-leader'
  | 'stop-follower'
  | 'isolate-leader'
  | 'isolate-follower'
  | 'asymmetric';
export type NodeFaultKind = 'kill-node' | 'stop-node' | 'cut-node-coordinators' | 'cut-node-peers' | 'drain-restart';
export type FaultKind = CoordinatorFaultKind | NodeFaultKind;
export type AdminKind = 'transfer-leader' | 'config-change';

export type Lane = 'coordinator' | 'node';

export interface FaultEvent {
  /** 1, 2, 3 … in start order. */
  readonly n: number;
  readonly lane: Lane;
  readonly kind: FaultKind;
  readonly atMs: number;
  /** The fault is healed (resumed, restarted, rules deleted) this long after it started. */
  readonly healAfterMs: number;
  /**
   * Which one: for a follower, its index among the followers sorted by id
   * (resolved when the fault starts); for a data node, its index in the node
   * list; for an asymmetric cut, the follower on the far side of the leader.
   */
  readonly pick: number;
}

export interface AdminEvent {
  readonly kind: AdminKind;
  readonly atMs: number;
  /** For a transfer: the index of the follower (sorted by id) that is to lead. */
  readonly pick: number;
}

export interface Schedule {
  readonly seed: number;
  readonly durationMs: number;
  readonly faults: readonly FaultEvent[];
  readonly admin: readonly AdminEvent[];
}

export interface ScheduleOptions {
  readonly seed: number;
  readonly durationMs: number;
  /** iptables faults allowed. */
  readonly partitions: boolean;
  readonly nodeCount?: number;
}

/** No fault before this: the workload gets going first. */
export const WARMUP_MS = 3_000;
/** Every fault has healed this long before the end of the run. */
export const QUIET_TAIL_MS = 3_000;
export const MIN_HEAL_MS = 1_500;
export const MAX_HEAL_MS = 6_000;
/** A drain waits for the node to leave; its slot in the node lane is this long. */
export const DRAIN_SLOT_MS = 30_000;
/** Pause in a lane between one fault healing and the next starting. */
export const MIN_GAP_MS = 500;
export const MAX_GAP_MS = 3_000;
export const ADMIN_MIN_GAP_MS = 8_000;
export const ADMIN_MAX_GAP_MS = 20_000;
export const MAX_CONCURRENT_FAULTS = 2;
/** A bound on the schedule's size, whatever the duration (one per 2 s per lane is far more than a run uses). */
export const MAX_EVENTS = 20_000;
export const MAX_DURATION_MS = 24 * 3_600_000;

/** Relative weights; the partitions are left out without iptables. */
const COORDINATOR_WEIGHTS: readonly (readonly [CoordinatorFaultKind, number, boolean])[] = [
  ['kill-leader', 35, false],
  ['kill-follower', 8, false],
  ['stop-leader', 14, false],
  ['stop-follower', 6, false],
  ['isolate-leader', 15, true],
  ['isolate-follower', 10, true],
  ['asymmetric', 12, true],
];
const NODE_WEIGHTS: readonly (readonly [NodeFaultKind, number, boolean])[] = [
  ['kill-node', 30, false],
  ['stop-node', 25, false],
  ['cut-node-coordinators', 20, true],
  ['cut-node-peers', 20, true],
  ['drain-restart', 5, false],
];

function weighted<K>(rng: SeededRng, table: readonly (readonly [K, number, boolean])[], partitions: boolean): K {
  const usable = table.filter(([, , needsPartitions]) => partitions || !needsPartitions);
  const total = usable.reduce((s, [, w]) => s + w, 0);
  let x = rng.float() * total;
  for (const [k, w] of usable) {
    x -= w;
    if (x < 0) return k;
  }
  return usable[usable.length - 1]![0];
}

const between = (rng: SeededRng, lo: number, hi: number): number => Math.round(lo + rng.float() * (hi - lo));

function lane(rng: SeededRng, which: Lane, o: Required<ScheduleOptions>, out: Omit<FaultEvent, 'n'>[]): void {
  const endMs = o.durationMs - QUIET_TAIL_MS;
  let t = WARMUP_MS + between(rng, 0, MAX_GAP_MS);
  for (let i = 0; i < MAX_EVENTS / 2; i++) {
    const kind = which === 'coordinator' ? weighted(rng, COORDINATOR_WEIGHTS, o.partitions) : weighted(rng, NODE_WEIGHTS, o.partitions);
    const healAfterMs = kind === 'drain-restart' ? DRAIN_SLOT_MS : between(rng, MIN_HEAL_MS, MAX_HEAL_MS);
    // Followers are two; a node is any of the list.
    const pick = which === 'coordinator' ? rng.int(2) : rng.int(o.nodeCount);
    if (t + healAfterMs > endMs) return;
    out.push({ lane: which, kind, atMs: t, healAfterMs, pick });
    t += healAfterMs + between(rng, MIN_GAP_MS, MAX_GAP_MS);
  }
}

/** The schedule of `seed`; the same options give the same schedule. */
export function buildSchedule(opts: ScheduleOptions): Schedule {
  if (!Number.isInteger(opts.seed) || opts.seed < 0 || opts.seed > 0xffff_ffff) throw new RangeError(`seed: expected an integer from 0 to ${0xffff_ffff}, got ${opts.seed}`);
  if (!(opts.durationMs > 0 && opts.durationMs <= MAX_DURATION_MS)) throw new RangeError(`durationMs: expected 1 to ${MAX_DURATION_MS}, got ${opts.durationMs}`);
  const o: Required<ScheduleOptions> = { nodeCount: 3, ...opts };
  const root = new SeededRng(o.seed);
  // One stream per lane: the lanes do not shift each other when one changes.
  const coordinatorRng = root.fork();
  const nodeRng = root.fork();
  const adminRng = root.fork();
  const faults: Omit<FaultEvent, 'n'>[] = [];
  lane(coordinatorRng, 'coordinator', o, faults);
  lane(nodeRng, 'node', o, faults);
  faults.sort((a, b) => a.atMs - b.atMs || (a.lane === 'coordinator' ? -1 : 1));
  const admin: AdminEvent[] = [];
  let t = WARMUP_MS + between(adminRng, ADMIN_MIN_GAP_MS / 2, ADMIN_MAX_GAP_MS);
  for (let i = 0; i < MAX_EVENTS && t < o.durationMs - QUIET_TAIL_MS; i++) {
    admin.push({ kind: adminRng.chance(0.5) ? 'transfer-leader' : 'config-change', atMs: t, pick: adminRng.int(2) });
    t += between(adminRng, ADMIN_MIN_GAP_MS, ADMIN_MAX_GAP_MS);
  }
  return { seed: o.seed, durationMs: o.durationMs, faults: faults.map((f, i) => ({ n: i + 1, ...f })), admin };
}

/** The most faults active at any one time (a fault is active over [atMs, atMs + healAfterMs)). */
export function maxConcurrent(faults: readonly FaultEvent[]): number {
  const edges = faults.flatMap((f) => [
    { t: f.atMs, d: 1 },
    { t: f.atMs + f.healAfterMs, d: -1 },
  ]);
  // A heal at the same instant as a start is counted first.
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let active = 0;
  let most = 0;
  for (const e of edges) {
    active += e.d;
    most = Math.max(most, active);
  }
  return most;
}

export const isPartition = (k: FaultKind): boolean =>
  k === 'isolate-leader' || k === 'isolate-follower' || k === 'asymmetric' || k === 'cut-node-coordinators' || k === 'cut-node-peers';
export const hitsLeader = (k: FaultKind): boolean => k === 'kill-leader' || k === 'stop-leader' || k === 'isolate-leader';

/** The schedule in lines, for the start of the run. */
export function describeSchedule(s: Schedule): string[] {
  const sec = (ms: number): string => (ms / 1000).toFixed(1).padStart(6);
  const lines = [`schedule of seed ${s.seed}: ${s.faults.length} faults (${s.faults.filter((f) => f.kind === 'kill-leader').length} leader kills), ${s.admin.length} admin operations over ${s.durationMs / 1000} s`];
  const all = [
    ...s.faults.map((f) => ({ at: f.atMs, text: `fault ${String(f.n).padStart(3)} ${f.kind.padEnd(22)} pick ${f.pick}  heals after ${(f.healAfterMs / 1000).toFixed(1)} s` })),
    ...s.admin.map((a) => ({ at: a.atMs, text: `admin     ${a.kind.padEnd(22)} pick ${a.pick}` })),
  ].sort((a, b) => a.at - b.at);
  for (const e of all) lines.push(`  ${sec(e.at)} s  ${e.text}`);
  return lines;
}
