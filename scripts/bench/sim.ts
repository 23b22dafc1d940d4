/**
 * `npm run bench -- sim`: the system simulation at scale, one seed each at
 * 100 nodes (1,024 shards) and 1,000 nodes (4,096 shards): simulated
 * seconds per wall second; the wall time of the leader's data-node duties
 * as the simulation runs them (health rounds, probe and confirmation
 * deadlines: timer callbacks of NodeControl, summed over replicas); and the
 * cost of applying one registration to a table of that size; and the wall
 * time of the placement planner's rounds (the driver's plan) as the
 * simulation runs them.
 */
import { apply, initialState, type Command, type RoutingState } from '../../src/coordinator/routing/index.js';
import { runSystemSeed } from '../sim/system/system-sim.js';
import { log } from '../launch/log.js';
import { now } from '../launch/wait-for.js';

const SCALES = [
  { nodes: 100, shards: 1_024 },
  { nodes: 1_000, shards: 4_096 },
] as const;
const SEED = 42;
const APPLY_RUNS = 21;

function tableOf(nodes: number, shards: number): RoutingState {
  let state = initialState({ clusterId: 'bench', shards, members: [{ id: 'c1', host: 'c1.sim', apiPort: 7000, peerPort: 7100 }] });
  for (let i = 0; i < nodes; i++) {
    const c = { type: 'registerNode', nodeId: `n${i}`, address: `n${i}.sim:9000`, capacity: 4, version: 'sim', atMs: 0, reason: 'bench' } as Command;
    state = apply(state, c, { index: i + 1, term: 1 }).state;
  }
  return state;
}

/** Median wall ms of applying one more registration to `state`. */
function applyMs(state: RoutingState): number {
  const times: number[] = [];
  for (let i = 0; i < APPLY_RUNS; i++) {
    const c = { type: 'registerNode', nodeId: `x${i}`, address: `x${i}.sim:9000`, capacity: 4, version: 'sim', atMs: 0, reason: 'bench' } as Command;
    const started = now();
    apply(state, c, { index: 1_000_000 + i, term: 1 });
    times.push(now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(APPLY_RUNS / 2)]!;
}

export async function runSimBench(): Promise<void> {
  const rows: string[] = [];
  for (const { nodes, shards } of SCALES) {
    log(`bench sim: seed ${SEED}, ${nodes} nodes, ${shards} shards …`);
    const r = await runSystemSeed({ seed: SEED, replicas: 3, nodes, shards });
    const simS = r.simulatedMs / 1000;
    const c = r.controlCost;
    rows.push(
      `${String(nodes).padStart(5)} nodes ${String(shards).padStart(5)} shards: ${(simS / (r.wallMs / 1000)).toFixed(2)} simulated s per wall s ` +
        `(${simS.toFixed(1)} s in ${(r.wallMs / 1000).toFixed(1)} s); data-node duties ${(c.totalMs / simS).toFixed(1)} wall ms per simulated s ` +
        `over ${c.callbacks} callbacks (max ${c.maxMs.toFixed(2)} ms); plan ${(r.planCost.totalMs / Math.max(1, r.planCost.rounds)).toFixed(2)} ms per round ` +
        `over ${r.planCost.rounds} rounds (max ${r.planCost.maxMs.toFixed(2)} ms); apply of a registration ${applyMs(tableOf(nodes, shards)).toFixed(3)} ms; ` +
        `${r.violations.length} violations`,
    );
    if (r.violations.length > 0) process.exitCode = 1;
  }
  for (const row of rows) process.stdout.write(`${row}\n`);
}
