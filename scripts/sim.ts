/**
 * npm run sim -- --seeds N [--from S] [--replicas 5] [--jobs J]
 * npm run sim -- --seed S [--replicas 5] --trace
 * npm run sim -- --system … (the whole control plane: see sim/system/main.ts)
 *
 * Runs the deterministic Raft simulation for a range of seeds (in parallel
 * worker threads) and prints `sim: N seeds, V violations`; each violation
 * comes with the command that replays its seed step by step.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { intArg as sharedIntArg } from './sim/int-arg.js';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { VARIANTS, type Variant } from './sim/broken-variants.js';
import { DEFAULT_FAULT_TICKS, DEFAULT_HEAL_TICKS, runSeed, type SimResult } from './sim/simulator.js';

interface Job {
  readonly seeds: number[];
  readonly replicas: number;
  readonly variant: Variant;
  readonly faultTicks: number;
  readonly healTicks: number;
}

interface Summary {
  readonly seed: number;
  readonly violations: SimResult['violations'];
  readonly convergedAfterTicks: number | undefined;
  readonly elections: number;
  readonly faults: number;
}

function summarize(r: SimResult): Summary {
  const s = r.stats;
  return {
    seed: r.seed,
    violations: r.violations,
    convergedAfterTicks: r.convergedAfterTicks,
    elections: s.elections,
    faults: s.crashes + s.pauses + s.partitions,
  };
}

if (!isMainThread) {
  const job = workerData as Job;
  for (const seed of job.seeds) {
    const r = runSeed({ seed, replicas: job.replicas, variant: job.variant, faultTicks: job.faultTicks, healTicks: job.healTicks });
    parentPort!.postMessage(summarize(r));
  }
} else {
  await main();
}

function usage(message: string): never {
  process.stderr.write(
    `${message}\n` +
      'usage: npm run sim -- --seeds N [--from S] [--replicas 3|5] [--jobs J] [--variant V]\n' +
      '       npm run sim -- --seed S [--replicas 3|5] [--variant V] --trace\n' +
      `variants (broken cores that must be caught): ${VARIANTS.join(', ')}\n`,
  );
  process.exit(2);
}

function intArg(v: string | undefined, name: string, dflt: number, min: number): number {
  return sharedIntArg(v, name, dflt, min, usage);
}

async function main(): Promise<void> {
  if (process.argv.includes('--system')) {
    const { systemMain } = await import('./sim/system/main.js');
    process.exit(await systemMain(process.argv.slice(2)));
  }
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        seeds: { type: 'string' },
        from: { type: 'string' },
        seed: { type: 'string' },
        replicas: { type: 'string' },
        jobs: { type: 'string' },
        variant: { type: 'string' },
        trace: { type: 'boolean' },
        'fault-ticks': { type: 'string' },
        'heal-ticks': { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    });
  } catch (e) {
    usage((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) usage('Deterministic simulation of the Raft core.');
  const replicas = intArg(v.replicas, 'replicas', 3, 1);
  if (replicas !== 3 && replicas !== 5) usage('--replicas must be 3 or 5');
  const variant = (v.variant ?? 'correct') as Variant;
  if (!VARIANTS.includes(variant)) usage(`unknown --variant "${v.variant}"`);
  const faultTicks = intArg(v['fault-ticks'], 'fault-ticks', DEFAULT_FAULT_TICKS, 0);
  const healTicks = intArg(v['heal-ticks'], 'heal-ticks', DEFAULT_HEAL_TICKS, 1);
  const extra = `${replicas !== 3 ? ` --replicas ${replicas}` : ''}${variant !== 'correct' ? ` --variant ${variant}` : ''}`;

  if (v.seed !== undefined) {
    const seed = intArg(v.seed, 'seed', 1, 0);
    const r = runSeed({
      seed,
      replicas,
      variant,
      faultTicks,
      healTicks,
      ...(v.trace ? { trace: (line: string) => process.stdout.write(`${line}\n`) } : {}),
    });
    report([summarize(r)], extra);
    process.stdout.write(
      `seed ${seed}: ${r.ticks} ticks, ${r.stats.elections} elections, ${r.stats.acked} acknowledged proposals, ` +
        `${r.stats.readsServed} reads served, converged ${r.convergedAfterTicks ?? 'never'} ticks after healing\n`,
    );
    process.stdout.write(`sim: 1 seeds, ${r.violations.length > 0 ? 1 : 0} violations\n`);
    process.exit(r.violations.length > 0 ? 1 : 0);
  }

  const count = intArg(v.seeds, 'seeds', 100, 1);
  const from = intArg(v.from, 'from', 1, 0);
  const jobs = Math.min(intArg(v.jobs, 'jobs', availableParallelism(), 1), count);
  const seeds = Array.from({ length: count }, (_, i) => from + i);
  const started = Date.now();
  process.stderr.write(`sim: seeds ${from}..${from + count - 1}, ${replicas} replicas, ${jobs} workers${variant !== 'correct' ? `, variant ${variant}` : ''}\n`);

  const results: Summary[] = [];
  let lastProgress = Date.now();
  await Promise.all(
    Array.from({ length: jobs }, (_, j) => {
      const job: Job = { seeds: seeds.filter((_, i) => i % jobs === j), replicas, variant, faultTicks, healTicks };
      return new Promise<void>((resolve, reject) => {
        const w = new Worker(new URL(import.meta.url), { workerData: job });
        w.on('message', (s: Summary) => {
          results.push(s);
          if (s.violations.length > 0) {
            const v = s.violations[0]!;
            process.stderr.write(`sim: seed ${s.seed} violates ${v.property} (replay: npm run sim -- --seed ${s.seed}${extra} --trace)\n`);
          }
          if (Date.now() - lastProgress > 5000) {
            lastProgress = Date.now();
            const bad = results.filter((x) => x.violations.length > 0).length;
            process.stderr.write(`sim: ${results.length}/${count} seeds, ${bad} with violations\n`);
          }
        });
        w.on('error', reject);
        w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sim worker exited with ${code}`))));
      });
    }),
  );
  results.sort((a, b) => a.seed - b.seed);
  report(results, extra);
  const secs = (Date.now() - started) / 1000;
  const conv = results.map((r) => r.convergedAfterTicks).filter((x): x is number => x !== undefined);
  const bad = results.filter((r) => r.violations.length > 0).length;
  process.stdout.write(
    `sim: ${(count / secs).toFixed(0)} seeds/s over ${secs.toFixed(1)} s; ` +
      `${results.reduce((a, r) => a + r.elections, 0)} elections, ${results.reduce((a, r) => a + r.faults, 0)} faults; ` +
      `converged after healing in max ${conv.length ? Math.max(...conv) : '-'} ticks (budget ${healTicks})\n`,
  );
  process.stdout.write(`sim: ${count} seeds, ${bad} violations\n`);
  process.exit(bad > 0 ? 1 : 0);
}

function report(results: Summary[], extra: string): void {
  let shown = 0;
  for (const r of results) {
    if (r.violations.length === 0) continue;
    if (shown++ >= 20) continue;
    process.stdout.write(`seed ${r.seed}: VIOLATION\n`);
    for (const v of r.violations.slice(0, 3)) process.stdout.write(`  ${v.property} at tick ${v.tick}: ${v.detail}\n`);
    process.stdout.write(`  replay: npm run sim -- --seed ${r.seed}${extra} --trace\n`);
  }
  if (shown > 20) process.stdout.write(`… and ${shown - 20} more seeds with violations\n`);
}
