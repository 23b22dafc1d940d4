/**
 * `npm run bench -- plan [--nodes N] [--shards S]`: how long the placement
 * planner takes on a large table, in process (it is pure): 1,000 nodes in
 * 3 zones × 4,096 shards × RF 3 by default. Every round is planned as the
 * leader's driver plans it (at most its steps per round). Measured, each the
 * median of several runs: the first assignment's round (every node just
 * registered), one planning round after a node failure (the failover round,
 * and the repair round once the replacement delay is over), one after a node
 * joined (balancing on), explain for one shard; then the first assignment
 * carried out to the end round after round, the whole dry run of `fail`, and
 * the slowest single round of all of these (one synchronous call on the
 * leader's event loop, which Raft's heartbeats wait behind).
 */
import { dryRun, explainShard, planPlacement, type PlacementInput, type PlannedStep } from '../../src/coordinator/placement/index.js';
import { apply, initialState, shardById, type Command, type RoutingState } from '../../src/coordinator/routing/index.js';
import { log } from '../launch/log.js';
import { now } from '../launch/wait-for.js';

export interface PlanBenchOptions {
  readonly nodes: number;
  readonly shards: number;
}

const RUNS = 7;
const LIMIT_MS = 100;
/** The driver's default steps per round (placement-driver/driver.ts). */
const STEPS_PER_ROUND = 32;
/** The first assignment carried out round after round stops after this long (a slow planner would take minutes). */
const DRIVE_BUDGET_MS = 30_000;
const T0 = 1_000_000;
const meta = { index: 1, term: 1 };

function must(state: RoutingState, c: Command): RoutingState {
  const out = apply(state, c, meta);
  if (!out.result.ok) throw new Error(`${c.type} refused: ${out.result.code} ${out.result.message}`);
  return out.state;
}

/** The slowest single planning round seen by this bench, and which it was. */
let slowest = { ms: 0, what: '' };

/** One round as the driver plans it, timed. */
function round(state: RoutingState, input: PlacementInput, what: string): { steps: PlannedStep[]; ms: number } {
  const start = now();
  const steps = planPlacement(state, { ...input, maxSteps: STEPS_PER_ROUND });
  const ms = now() - start;
  if (ms > slowest.ms) slowest = { ms, what };
  return { steps, ms };
}

function median(f: () => number): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(f());
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)] as number;
}

function timed(f: () => void): number {
  const start = now();
  f();
  return now() - start;
}

/** Every node registered and healthy, no shard placed yet. */
function registeredTable(opts: PlanBenchOptions): RoutingState {
  let state = initialState({ clusterId: 'bench-plan', shards: opts.shards, settings: { replicationFactor: 3 } });
  const capacity = Math.ceil((opts.shards * 3 * 2) / opts.nodes);
  for (let i = 0; i < opts.nodes; i++) {
    const nodeId = `n${i + 1}`;
    const base = { atMs: T0, reason: 'bench', nodeId };
    state = must(state, { type: 'registerNode', ...base, address: `127.0.0.1:${10_000 + i}`, capacity, version: '', labels: { zone: `z${i % 3}` } });
    state = must(state, { type: 'setNodeStatus', ...base, status: 'healthy' });
  }
  return state;
}

/** The first assignment carried out as the driver does it: plan, apply the round's steps, plan again, until nothing is left. */
function driveFirstAssignment(registered: RoutingState, nowMs: number): { state: RoutingState; rounds: number; steps: number; maxMs: number; totalMs: number; done: boolean } {
  let state = registered;
  let rounds = 0;
  let steps = 0;
  let maxMs = 0;
  const start = now();
  for (;;) {
    if (now() - start > DRIVE_BUDGET_MS) return { state, rounds, steps, maxMs, totalMs: now() - start, done: false };
    const r = round(state, { nowMs }, 'a round of the first assignment');
    if (r.steps.length === 0) return { state, rounds, steps, maxMs, totalMs: now() - start, done: true };
    rounds++;
    steps += r.steps.length;
    maxMs = Math.max(maxMs, r.ms);
    for (const step of r.steps) state = must(state, step.command);
  }
}

export async function runPlanBench(opts: PlanBenchOptions): Promise<void> {
  log(`bench plan: ${opts.nodes} nodes × ${opts.shards} shards × RF 3 …`);
  const registered = registeredTable(opts);
  const assignAt = T0 + 60_000;
  let firstSteps = 0;
  const firstMs = median(() => {
    const r = round(registered, { nowMs: assignAt }, 'the first round of the first assignment');
    firstSteps = r.steps.length;
    return r.ms;
  });
  log('first assignment, round after round …');
  const drive = driveFirstAssignment(registered, assignAt);
  // The rest needs the whole table placed: one full plan if the rounds above ran out of time.
  let placed = drive.state;
  if (!drive.done) for (const step of planPlacement(placed, { nowMs: assignAt })) placed = must(placed, step.command);

  const at = T0 + 120_000;
  const victim = 'n17';
  const failed = must(placed, { type: 'setNodeStatus', atMs: at, reason: 'bench', nodeId: victim, status: 'unhealthy', confirmedBy: ['c1'], voters: 1 });
  let failoverSteps = 0;
  const failoverMs = median(() => {
    const r = round(failed, { nowMs: at }, 'the failover round');
    failoverSteps = r.steps.length;
    return r.ms;
  });
  let failedOver = failed;
  for (const step of planPlacement(failed, { nowMs: at })) failedOver = must(failedOver, step.command);
  const later = at + failed.config.settings.recovery.replaceDelayMs + 1;
  let repairSteps = 0;
  const repairMs = median(() => {
    const r = round(failedOver, { nowMs: later }, 'the repair round');
    repairSteps = r.steps.length;
    return r.ms;
  });
  // A node joining each zone in turn: which heavy node can hand it a copy depends on the zones.
  let joinSteps = 0;
  let joinMs = 0;
  let joinZone = '';
  for (const zone of ['z0', 'z1', 'z2']) {
    const joined = must(placed, { type: 'registerNode', atMs: at, reason: 'bench', nodeId: 'new', address: '127.0.0.1:9999', capacity: 64, version: '', labels: { zone } });
    const ms = median(() => {
      const r = round(joined, { nowMs: at, rebalance: true }, `the join round (balance on, zone ${zone})`);
      joinSteps = r.steps.length;
      return r.ms;
    });
    if (ms >= joinMs) (joinMs = ms), (joinZone = zone);
  }
  const calmMs = median(() => round(placed, { nowMs: at }, 'a round on a calm table').ms);
  const shard = shardById(failed, failed.shards.find((s) => s.replicas.includes(victim))?.id ?? 0)!;
  const explainMs = median(() => timed(() => explainShard(failed, shard, { nowMs: at })));
  let moves = 0;
  const dryMs = timed(() => (moves = dryRun(placed, { fail: [victim] }, { nowMs: at }).moves.length));

  const perRound = `at most ${STEPS_PER_ROUND} steps a round, as the driver`;
  const rows: [string, number, string][] = [
    ['first assignment (first round, every node just registered)', firstMs, `${firstSteps} steps (${perRound})`],
    ['plan after a node failure (failover round)', failoverMs, `${failoverSteps} steps`],
    ['plan after a node failure (repair round)', repairMs, `${repairSteps} steps (recovery limits: 4 per cluster)`],
    ['plan after a join (balance on), the slowest of a join to each zone', joinMs, `${joinSteps} step (zone ${joinZone})`],
    ['plan on a calm table (nothing to do)', calmMs, `${round(placed, { nowMs: at }, 'a round on a calm table').steps.length} steps`],
    ['explain one shard', explainMs, `every one of ${opts.nodes} nodes judged`],
    [`slowest single round of this bench`, slowest.ms, slowest.what],
  ];
  const driveNote = drive.done
    ? `${drive.rounds} rounds, ${drive.steps} steps, slowest round ${drive.maxMs.toFixed(1)} ms`
    : `NOT finished: stopped after ${drive.rounds} rounds (${drive.steps} steps), slowest round ${drive.maxMs.toFixed(1)} ms`;
  const out = [
    `| measure (${opts.nodes} nodes × ${opts.shards} shards × RF 3, median of ${RUNS}) | ms | ≤ ${LIMIT_MS} ms | note |`,
    '|---|---|---|---|',
    ...rows.map(([m, ms, note]) => `| ${m} | ${ms.toFixed(1)} | ${ms <= LIMIT_MS ? 'yes' : 'NO'} | ${note} |`),
    `| first assignment carried out round after round (once, planning and applying) | ${drive.totalMs.toFixed(0)} | – | ${driveNote} |`,
    `| whole dry run of fail ${victim} (every round to the end, once) | ${dryMs.toFixed(0)} | – | ${moves} moves |`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  if (rows.some(([, ms]) => ms > LIMIT_MS) || !drive.done) process.exitCode = 1;
}
