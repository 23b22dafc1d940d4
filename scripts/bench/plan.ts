/**
 * `npm run bench -- plan [--nodes N] [--shards S]`: how long the placement
 * planner takes on a large table, in process (it is pure): 1,000 nodes in
 * 3 zones × 4,096 shards × RF 3 by default. Measured, each the median of
 * several runs: one planning round after a node failure (the failover
 * round, and the repair round once the replacement delay is over), one
 * after a node joined (balancing on), explain for one shard, and the whole
 * dry run of `fail` (every round to the end).
 */
import { dryRun, explainShard, planPlacement } from '../../src/coordinator/placement/index.js';
import { apply, initialState, shardById, type Command, type RoutingState } from '../../src/coordinator/routing/index.js';
import { log, now } from './procs.js';

export interface PlanBenchOptions {
  readonly nodes: number;
  readonly shards: number;
}

const RUNS = 7;
const LIMIT_MS = 100;
const T0 = 1_000_000;
const meta = { index: 1, term: 1 };

function must(state: RoutingState, c: Command): RoutingState {
  const out = apply(state, c, meta);
  if (!out.result.ok) throw new Error(`${c.type} refused: ${out.result.code} ${out.result.message}`);
  return out.state;
}

function median(f: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = now();
    f();
    times.push(now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)] as number;
}

/** The table placed: every node registered and healthy, the first assignment applied. */
function placedTable(opts: PlanBenchOptions): RoutingState {
  let state = initialState({ clusterId: 'bench-plan', shards: opts.shards, settings: { replicationFactor: 3 } });
  const capacity = Math.ceil((opts.shards * 3 * 2) / opts.nodes);
  for (let i = 0; i < opts.nodes; i++) {
    const nodeId = `n${i + 1}`;
    const base = { atMs: T0, reason: 'bench', nodeId };
    state = must(state, { type: 'registerNode', ...base, address: `127.0.0.1:${10_000 + i}`, capacity, version: '', labels: { zone: `z${i % 3}` } });
    state = must(state, { type: 'setNodeStatus', ...base, status: 'healthy' });
  }
  for (const step of planPlacement(state, { nowMs: T0 + 60_000 })) state = must(state, step.command);
  return state;
}

export async function runPlanBench(opts: PlanBenchOptions): Promise<void> {
  log(`bench plan: ${opts.nodes} nodes × ${opts.shards} shards × RF 3 …`);
  const start = now();
  const placed = placedTable(opts);
  const assignMs = now() - start;
  const at = T0 + 120_000;
  const victim = 'n17';
  const failed = must(placed, { type: 'setNodeStatus', atMs: at, reason: 'bench', nodeId: victim, status: 'unhealthy', confirmedBy: ['c1'], voters: 1 });
  let failoverSteps = 0;
  const failoverMs = median(() => (failoverSteps = planPlacement(failed, { nowMs: at }).length));
  let failedOver = failed;
  for (const step of planPlacement(failed, { nowMs: at })) failedOver = must(failedOver, step.command);
  const later = at + failed.config.settings.recovery.replaceDelayMs + 1;
  let repairSteps = 0;
  const repairMs = median(() => (repairSteps = planPlacement(failedOver, { nowMs: later }).length));
  const joined = must(placed, { type: 'registerNode', atMs: at, reason: 'bench', nodeId: 'new', address: '127.0.0.1:9999', capacity: 64, version: '', labels: { zone: 'z0' } });
  let joinSteps = 0;
  const joinMs = median(() => (joinSteps = planPlacement(joined, { nowMs: at, rebalance: true }).length));
  const shard = shardById(failed, failed.shards.find((s) => s.replicas.includes(victim))?.id ?? 0)!;
  const explainMs = median(() => explainShard(failed, shard, { nowMs: at }));
  let moves = 0;
  const dryStart = now();
  moves = dryRun(placed, { fail: [victim] }, { nowMs: at }).moves.length;
  const dryMs = now() - dryStart;

  const rows: [string, number, string][] = [
    ['plan after a node failure (failover round)', failoverMs, `${failoverSteps} steps`],
    ['plan after a node failure (repair round)', repairMs, `${repairSteps} steps (recovery limits: 4 per cluster)`],
    ['plan after a join (balance on)', joinMs, `${joinSteps} step`],
    ['explain one shard', explainMs, `every one of ${opts.nodes} nodes judged`],
  ];
  const out = [
    `| measure (${opts.nodes} nodes × ${opts.shards} shards × RF 3, median of ${RUNS}) | ms | ≤ ${LIMIT_MS} ms | note |`,
    '|---|---|---|---|',
    ...rows.map(([m, ms, note]) => `| ${m} | ${ms.toFixed(1)} | ${ms <= LIMIT_MS ? 'yes' : 'NO'} | ${note} |`),
    `| whole dry run of fail ${victim} (every round to the end, once) | ${dryMs.toFixed(0)} | – | ${moves} moves |`,
    `| setup: registering and the first assignment (once) | ${assignMs.toFixed(0)} | – | |`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  if (rows.some(([, ms]) => ms > LIMIT_MS)) process.exitCode = 1;
}
