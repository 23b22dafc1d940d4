/**
 * One chaos run end to end: the cluster up, the workload and the seeded
 * faults for the duration, everything healed, convergence awaited, the
 * checks, the figures and the closing line. Cleans up always: children
 * killed by PID, this run's iptables rules deleted, the temp dir removed
 * unless kept (also on Ctrl-C, through the exit hooks of the cluster and
 * the firewall).
 */
import fsp from 'node:fs/promises';
import { shardForKey } from '../../src/common/key-hash.js';
import { formatFinalReadLine, formatHistoryLine, type HistoryOp } from './history.js';
import { checkLinearizability, findLostWrites } from './linearizability/index.js';
import { describeOp } from './linearizability/describe.js';
import { log } from '../launch/log.js';
import { sleep } from '../launch/wait-for.js';
import type { ChaosArgs } from './args.js';
import { ChaosCluster, SHARDS } from './cluster.js';
import { CONVERGE_BOUND_MS, finalReads, waitConverged } from './converge.js';
import { FaultRunner } from './faults.js';
import { Firewall, partitionUnsupportedReason } from './firewall.js';
import { LeaderMonitor } from './monitor.js';
import { closingLines, countOutcomes, describeCounts, describeFailovers, describeGaps, describeTimeline, failovers, passed, unavailabilityPerShard } from './report.js';
import { buildSchedule, describeSchedule } from './schedule.js';
import { chooseKeys, Workload } from './workload.js';

export const CLIENTS = 6;
export const MIN_KEYS = 10;
const PROGRESS_EVERY_MS = 5_000;
/** Ready: every shard with a primary and its copies in sync. */
const READY_BOUND_MS = 60_000;

export interface RunIo {
  readonly out: (line: string) => void;
}

export async function runChaos(args: ChaosArgs, io: RunIo): Promise<number> {
  const say = (line: string) => io.out(`${line}\n`);
  let partitions = args.partitions;
  if (!partitions) say('chaos: partitions off (--no-partitions)');
  else {
    const why = partitionUnsupportedReason();
    if (why !== undefined) {
      partitions = false;
      say(`chaos: NOTICE: iptables partitions skipped (${why}); kills and pauses only`);
    }
  }
  const durationMs = args.duration * 1_000;
  const schedule = buildSchedule({ seed: args.seed, durationMs, partitions });
  for (const l of describeSchedule(schedule)) say(l);
  const replay = { seed: args.seed, durationS: args.duration, extra: `${partitions ? '' : ' --no-partitions'}${args.diskFaults ? ' --disk-faults' : ''}` };

  const cluster = await ChaosCluster.create({ keep: args.keep, ...(args.diskFaults ? { diskFaults: { seed: args.seed } } : {}) });
  if (args.diskFaults) say('chaos: disk faults ON: coordinators run with TORUA_FAULTS (failing, slow and crashing log writes while leading); a coordinator that exits by itself is started again');
  const firewall = partitions ? new Firewall({ tag: `torua-chaos-${process.pid}` }) : undefined;
  say(`chaos: cluster in ${cluster.dir}${args.keep ? ' (kept)' : ''}`);
  try {
    await cluster.startAll();
    const ready = await waitConverged(cluster, READY_BOUND_MS);
    if (!ready.ok) throw new Error(`the cluster did not come up within ${READY_BOUND_MS / 1000} s: ${ready.detail}`);
    say(`chaos: cluster ready in ${(ready.elapsedMs / 1000).toFixed(1)} s (3 coordinators, 3 data nodes, ${SHARDS} shards, RF 2)`);

    const keys = chooseKeys(SHARDS, MIN_KEYS);
    const t0 = performance.now();
    const clock = () => Math.round((performance.now() - t0) * 10) / 10;
    const workload = new Workload({
      seed: args.seed,
      clients: CLIENTS,
      keys,
      coordinators: cluster.coordinators,
      clock,
      // ~20 ops/s per client at most.
      maxOpsPerClient: args.duration * 25,
      minPauseMs: 20,
      maxPauseMs: 80,
      timeoutMs: 3_000,
      deadlineMs: 8_000,
    });
    const monitor = new LeaderMonitor(cluster, clock);
    const runner = new FaultRunner(cluster, firewall, schedule, clock);
    monitor.start();
    workload.start();
    runner.start();
    say(`chaos: workload of ${CLIENTS} clients (${Math.ceil(CLIENTS / 2)} smart, ${CLIENTS - Math.ceil(CLIENTS / 2)} REST) on keys ${keys.join(',')}`);
    while (clock() < durationMs) {
      await sleep(Math.min(PROGRESS_EVERY_MS, durationMs - clock()));
      const active = runner.activeFaults();
      log(`chaos: ${(clock() / 1000).toFixed(0)} s: ${workload.opCount} ops, ${runner.timeline.length} faults so far, active: ${active.length === 0 ? 'none' : active.join(', ')}`);
    }
    const workloadEndMs = clock();
    await runner.stop();
    await workload.stop();
    const healedAtMs = clock();
    say(`chaos: ${(healedAtMs / 1000).toFixed(1)} s: everything healed; waiting up to ${CONVERGE_BOUND_MS / 1000} s for convergence`);
    await monitor.stop();

    const converged = await waitConverged(cluster, CONVERGE_BOUND_MS);
    const { reads, unread } = await finalReads(cluster, keys);
    const history = workload.history();
    if (args.history !== undefined) {
      await fsp.writeFile(args.history, history.map((h) => `${formatHistoryLine(h)}\n`).join(''));
      await fsp.writeFile(`${args.history}.final`, reads.map((r) => `${formatFinalReadLine(r)}\n`).join(''));
      say(`chaos: history in ${args.history} (${history.length} ops), final reads in ${args.history}.final`);
    }

    for (const l of describeTimeline(runner.timeline, runner.adminLog)) say(l);
    for (const l of describeFailovers(failovers(runner.timeline, monitor.observations, history))) say(l);
    const shardOf = (key: string) => shardForKey(key, SHARDS);
    for (const l of describeGaps(unavailabilityPerShard(history, shardOf, SHARDS, 0, workloadEndMs))) say(l);
    for (const l of describeCounts(countOutcomes(history))) say(l);
    if (args.diskFaults) say(`disk faults: coordinators exited by themselves ${cluster.selfExits.length}× (${cluster.selfExits.join(', ') || 'none'}), each started again`);

    const lin = checkLinearizability(history);
    const lost = findLostWrites(history, new Map(reads.map((r) => [r.key, r.value])));
    say(`(a) linearizable per key: ${lin.verdict} (${lin.counts.ok} keys ok, ${lin.counts.violation} violations, ${lin.counts.unknown} undecided)`);
    for (const v of lin.violations) reportViolation(say, v.key, v.reason, v.ops);
    for (const r of lin.results) if (r.verdict === 'unknown') say(`  key ${r.key}: undecided (the checker's ${r.bound} bound, ${r.states} states)`);
    say(`(b) lost acknowledged writes: ${lost.lost.length}${unread.length > 0 ? ` (keys without a final read: ${unread.join(',')})` : ''}`);
    for (const l of lost.lost) reportViolation(say, l.key, `final read ${JSON.stringify(l.found)}; none of these acknowledged writes is visible`, l.writes);
    say(`(c)+(d) converged within ${CONVERGE_BOUND_MS / 1000} s of healing: ${converged.ok ? `yes, after ${(converged.elapsedMs / 1000).toFixed(1)} s` : 'no'} — ${converged.detail}`);
    // A key without a final read cannot be checked for lost writes: the cluster did not converge to serve it.
    const verdicts = { linearizable: lin.verdict, lost: lost.lost.length, converged: converged.ok && unread.length === 0 && lost.unread.length === 0 };
    if (!converged.ok) for (const m of [...cluster.coordinators, ...cluster.nodes]) say(await cluster.logTail(m.id, 10));
    for (const l of closingLines(verdicts, replay)) say(l);
    return passed(verdicts) ? 0 : 1;
  } catch (e) {
    say(`chaos: error: ${(e as Error).stack ?? String(e)}`);
    say(`chaos: FAILED with seed ${args.seed}; replay: npm run chaos -- --duration ${args.duration} --seed ${args.seed}${replay.extra}`);
    return 2;
  } finally {
    if (firewall !== undefined) for (const err of firewall.healAll()) say(`chaos: ${err}`);
    await cluster.close();
  }
}

function reportViolation(say: (l: string) => void, key: string, reason: string, ops: readonly HistoryOp[]): void {
  say(`  key ${key}: ${reason}`);
  for (const op of ops.slice(0, 12)) say(`    ${describeOp(op)}`);
  if (ops.length > 12) say(`    … and ${ops.length - 12} more`);
}
