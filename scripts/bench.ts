/**
 * npm run bench -- raft [--seconds S]
 *
 * Figures for the Raft core alone: committed proposals per second for three
 * in-process replicas with in-memory storage and instant delivery, with and
 * without batching, and simulated seeds per second.
 *
 * npm run bench -- coordinator [--seconds S] [--kills N] [--stops N] [--tls] [--writers W]
 *
 * Three real coordinator replicas (and etcd, when on the PATH): see
 * scripts/bench/coordinator.ts. --tls: the same again with mutual TLS on
 * every port, in the same run. --writers: only that writer count, no reads (to
 * profile one load: TORUA_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" gives every
 * torua process of a bench a profile, written at the bench's end).
 *
 * npm run bench -- kv [--seconds S] [--tls] [--rounds R]
 *
 * The data path: 3 coordinators and 3 data nodes, puts and gets through the
 * smart client and a coordinator's REST (and etcd, when on the PATH): see
 * scripts/bench/kv.ts. --tls: the same cluster again with mutual TLS, and
 * the cost of it per cell. --rounds: the torua clusters R times (plain and
 * TLS taking turns at going first), and the median of each cell.
 *
 * npm run bench -- failover [--trials N]
 *
 * From SIGSTOP of a data node to its shards being served by promoted
 * primaries, over N trials (default 20), and a pause test that must decide
 * nothing: see scripts/bench/failover.ts.
 *
 * npm run bench -- evacuate [--keys N] [--value-bytes B]
 *
 * Time to evacuate a data node holding data over 16 shards, without and with
 * a writer, against the disk's copy rate: see scripts/bench/evacuate.ts.
 *
 * npm run bench -- leader-faults [--trials N] [--writers W] [--faults kill,pause,isolate,link] [--logs DIR]
 *
 * What a kill, pause or isolation of the coordinator leader, or a cut of
 * one leader<->node link, costs smart-client writers: see
 * scripts/bench/leader-faults.ts.
 *
 * npm run bench -- fleet [--nodes N] [--dead D] [--seconds S | --minutes M] [--json]
 *
 * One leader under N impersonated data nodes (default 1000) and D dead
 * ones: its CPU, probe regularity, the followers' longest gap without a
 * heartbeat, leader changes, false decisions, and the time to detect one
 * hung node: see scripts/bench/fleet.ts.
 *
 * npm run bench -- hot [--seconds S]
 *
 * A skewed read load (80% on one node's shards): time until the leader's
 * load moves bring max/mean node load to 1.3, moves, p99 before and after:
 * see scripts/bench/hot.ts.
 *
 * npm run bench -- plan [--nodes N] [--shards S]
 *
 * The placement planner in process on 1,000 nodes × 4,096 shards × RF 3:
 * a round after a failure, after a join, explain: see scripts/bench/plan.ts.
 *
 * npm run bench -- sim
 *
 * The system simulation at 100 and 1,000 nodes: simulated seconds per wall
 * second and the leader's per-round costs: see scripts/bench/sim.ts.
 */
import { parseArgs } from 'node:util';
import { RawNode, SeededRng, type Message, type MemberId } from '../src/raft/index.js';
import { MemoryStorage, batchOf } from '../src/storage/index.js';
import { runSeed } from './sim/simulator.js';
import { runCoordinatorBench } from './bench/coordinator.js';
import { runEvacuateBench } from './bench/evacuate.js';
import { runFailoverBench } from './bench/failover.js';
import { runFleetBench } from './bench/fleet.js';
import { runHotBench } from './bench/hot.js';
import { runKvBench } from './bench/kv.js';
import { FAULTS, runLeaderFaultsBench } from './bench/leader-faults.js';
import { runPlanBench } from './bench/plan.js';
import { runSimBench } from './bench/sim.js';

interface Row {
  readonly measure: string;
  readonly value: string;
  readonly note: string;
}

/** Three replicas wired together with instant, in-order delivery. */
class InstantCluster {
  readonly nodes = new Map<MemberId, { raft: RawNode; storage: MemoryStorage; applied: number }>();
  private queue: Message[] = [];

  constructor(ids: MemberId[], seed: number) {
    const rng = new SeededRng(seed);
    for (const id of ids) {
      const storage = new MemoryStorage();
      const raft = new RawNode(
        { id, electionTicks: 10, heartbeatTicks: 1, initialConf: { voters: ids, learners: [] }, maxUncommittedEntries: 1_000_000 },
        { rng: rng.fork(), initial: storage.loadNow() },
      );
      this.nodes.set(id, { raft, storage, applied: 0 });
    }
  }

  /** Persist, send, apply, advance, deliver — until nothing moves. */
  settle(): void {
    for (;;) {
      let moved = false;
      for (const n of this.nodes.values()) {
        while (n.raft.hasReady()) {
          moved = true;
          const rd = n.raft.ready();
          n.storage.write(batchOf(rd));
          if (rd.mustSync) n.storage.sync();
          for (const m of rd.messages) this.queue.push(m);
          const last = rd.committedEntries[rd.committedEntries.length - 1];
          if (last) n.applied = last.index;
          n.raft.advance();
        }
      }
      if (this.queue.length === 0 && !moved) return;
      const q = this.queue;
      this.queue = [];
      for (const m of q) this.nodes.get(m.to)!.raft.step(m);
    }
  }

  elect(): RawNode {
    for (let t = 0; t < 1000; t++) {
      for (const n of this.nodes.values()) n.raft.tick();
      this.settle();
      for (const n of this.nodes.values()) if (n.raft.currentRole === 'leader') return n.raft;
    }
    throw new Error('no leader');
  }

  /** Drops the stored log behind what every replica applied (keeps memory flat in long runs). */
  compact(): void {
    for (const n of this.nodes.values()) n.raft.compact(n.applied, new Uint8Array(0));
    this.settle();
  }
}

/** Commits `total` proposals, `batch` per round of persist-send-ack; returns proposals per second. */
function commitRate(batch: number, seconds: number): { perSec: number; roundUs: number } {
  const c = new InstantCluster(['a', 'b', 'c'], 7);
  const leader = c.elect();
  const leaderNode = [...c.nodes.values()].find((n) => n.raft === leader)!;
  const payload = new Uint8Array(16).fill(7);
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  let proposals = 0;
  let rounds = 0;
  while (performance.now() < deadline) {
    for (let r = 0; r < 50; r++) {
      let last = 0;
      for (let i = 0; i < batch; i++) {
        const res = leader.propose(payload);
        if (res.kind === 'appended') last = res.index;
      }
      c.settle();
      if (leaderNode.applied < last) throw new Error(`proposal ${last} not committed after settling`);
      proposals += batch;
      rounds++;
    }
    if (rounds % 1000 === 0) c.compact();
  }
  const elapsed = (performance.now() - started) / 1000;
  return { perSec: proposals / elapsed, roundUs: (elapsed * 1e6) / rounds };
}

function seedsPerSecond(replicas: number, seconds: number): number {
  const started = performance.now();
  let seeds = 0;
  while (performance.now() - started < seconds * 1000) runSeed({ seed: 1_000_000 + seeds++, replicas });
  return seeds / ((performance.now() - started) / 1000);
}

function printTable(title: string, rows: Row[]): void {
  const w0 = Math.max(...rows.map((r) => r.measure.length), 7);
  const w1 = Math.max(...rows.map((r) => r.value.length), 5);
  process.stdout.write(`\n${title}\n`);
  process.stdout.write(`${'measure'.padEnd(w0)}  ${'value'.padStart(w1)}  note\n`);
  process.stdout.write(`${'-'.repeat(w0)}  ${'-'.repeat(w1)}  ----\n`);
  for (const r of rows) process.stdout.write(`${r.measure.padEnd(w0)}  ${r.value.padStart(w1)}  ${r.note}\n`);
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

const USAGE = `usage: npm run bench -- [TARGET] [flags]   (README, "Benchmarks")
  raft (default)                                        the Raft core in process
  coordinator [--seconds S] [--kills N] [--stops N] [--writers N] [--tls]
  kv [--seconds S] [--tls] [--rounds R]
  failover [--trials N]
  evacuate [--keys N] [--value-bytes B]
  leader-faults [--trials N] [--writers N] [--faults kill,pause,isolate,link] [--logs DIR]
  fleet [--nodes N] [--dead N] [--shards S] [--seconds S | --minutes M] [--json]
  plan [--nodes N] [--shards S]
  hot [--seconds S]
  sim
`;

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: { seconds: { type: 'string' }, kills: { type: 'string' }, stops: { type: 'string' }, trials: { type: 'string' }, keys: { type: 'string' }, 'value-bytes': { type: 'string' }, writers: { type: 'string' }, faults: { type: 'string' }, logs: { type: 'string' }, nodes: { type: 'string' }, dead: { type: 'string' }, minutes: { type: 'string' }, json: { type: 'boolean' }, shards: { type: 'string' }, tls: { type: 'boolean' }, rounds: { type: 'string' } },
      allowPositionals: true,
    });
  } catch (e) {
    // An unknown flag (--help among them) gets the usage, not a stack trace.
    process.stderr.write(`bench: ${e instanceof Error ? e.message.split('. ')[0] : String(e)}\n${USAGE}`);
    process.exit(2);
  }
  const { values, positionals } = parsed;
  const which = positionals[0] ?? 'raft';
  const seconds = values.seconds === undefined ? (which === 'coordinator' ? 2 : 3) : Number(values.seconds);
  if (!(seconds > 0) || seconds > 600) {
    process.stderr.write(`--seconds must be a positive number (at most 600), got "${values.seconds}"\n`);
    process.exit(2);
  }
  /** An integer flag within [min, max], or exit 2 saying what is expected. */
  const intFlag = (name: 'kills' | 'stops' | 'trials' | 'keys' | 'value-bytes' | 'writers' | 'nodes' | 'dead' | 'shards' | 'rounds', dflt: number, min: number, max: number): number => {
    const v = values[name] === undefined ? dflt : Number(values[name]);
    if (!Number.isInteger(v) || v < min || v > max) {
      process.stderr.write(`--${name} must be an integer from ${min} to ${max}, got "${values[name]}"\n`);
      process.exit(2);
    }
    return v;
  };
  if (which === 'coordinator') {
    await runCoordinatorBench({ seconds, kills: intFlag('kills', 20, 0, 1_000), stops: intFlag('stops', 10, 0, 1_000), tls: values.tls === true, ...(values.writers === undefined ? {} : { writers: intFlag('writers', 1, 1, 256) }) });
    process.exit(0);
  }
  if (which === 'kv') {
    await runKvBench({ seconds, tls: values.tls === true, rounds: intFlag('rounds', 1, 1, 20) });
    process.exit(process.exitCode ?? 0);
  }
  if (which === 'failover') {
    await runFailoverBench({ trials: intFlag('trials', 20, 1, 200) });
    process.exit(process.exitCode ?? 0);
  }
  if (which === 'evacuate') {
    await runEvacuateBench({ keys: intFlag('keys', 8_000, 16, 200_000), valueBytes: intFlag('value-bytes', 4_096, 64, 1_048_576) });
    process.exit(process.exitCode ?? 0);
  }
  if (which === 'leader-faults') {
    const faults = values.faults?.split(',').map((f) => f.trim());
    const unknown = faults?.filter((f) => !(FAULTS as readonly string[]).includes(f)) ?? [];
    if (unknown.length > 0 || faults?.length === 0) {
      process.stderr.write(`--faults: expected a comma-separated list of ${FAULTS.join(', ')}, got "${values.faults}"\n`);
      process.exit(2);
    }
    await runLeaderFaultsBench({ trials: intFlag('trials', 3, 1, 50), writers: intFlag('writers', 8, 1, 64), faults, logsTo: values.logs });
    process.exit(process.exitCode ?? 0);
  }
  if (which === 'fleet') {
    const minutes = values.minutes === undefined ? undefined : Number(values.minutes);
    if (minutes !== undefined && !(minutes > 0 && minutes <= 60)) {
      process.stderr.write(`--minutes must be a positive number (at most 60), got "${values.minutes}"\n`);
      process.exit(2);
    }
    const window = minutes !== undefined ? minutes * 60 : values.seconds === undefined ? 30 : seconds;
    await runFleetBench({ nodes: intFlag('nodes', 1_000, 0, 10_000), dead: intFlag('dead', 0, 0, 20_000), seconds: window, json: values.json === true, ...(values.shards === undefined ? {} : { shards: intFlag('shards', 8, 1, 16_384) }) });
    process.exit(process.exitCode ?? 0);
  }
  if (which === 'hot') {
    await runHotBench({ seconds: values.seconds === undefined ? 150 : seconds });
    process.exit(process.exitCode ?? 0);
  }
  if (which === 'plan') {
    await runPlanBench({ nodes: intFlag('nodes', 1_000, 3, 10_000), shards: intFlag('shards', 4_096, 1, 65_536) });
    process.exit(process.exitCode ?? 0);
  }
  if (which === 'sim') {
    await runSimBench();
    process.exit(process.exitCode ?? 0);
  }
  if (which !== 'raft') {
    process.stderr.write(`bench: unknown target "${which}"\n${USAGE}`);
    process.exit(2);
  }
  process.stderr.write(`bench raft: ${seconds} s per measure …\n`);
  const rows: Row[] = [];
  for (const batch of [1, 10, 100, 1000]) {
    const r = commitRate(batch, seconds);
    rows.push({
      measure: batch === 1 ? 'commits/s, no batching' : `commits/s, batches of ${batch}`,
      value: fmt(r.perSec),
      note: `${r.roundUs.toFixed(1)} µs per persist-replicate-commit round`,
    });
    process.stderr.write(`  ${rows[rows.length - 1]!.measure}: ${rows[rows.length - 1]!.value}\n`);
  }
  for (const replicas of [3, 5]) {
    rows.push({ measure: `simulated seeds/s, ${replicas} replicas`, value: seedsPerSecond(replicas, seconds).toFixed(1), note: 'one core, 700 ticks a seed' });
  }
  printTable('Raft core: 3 in-process replicas, in-memory storage, instant delivery, 16-byte proposals', rows);
  const best = Math.max(...rows.slice(0, 4).map((r) => Number(r.value.replace(/,/g, ''))));
  process.stdout.write(`\ngoal: ≥ 200,000 committed proposals/s with batching — ${best >= 200_000 ? 'met' : 'NOT met'} (${fmt(best)}/s)\n`);
}

await main();
