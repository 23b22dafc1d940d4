/**
 * npm run sim -- --system --seeds N [--from S] [--replicas 3|5] [--nodes K] [--shards N] [--variant V]
 * npm run sim -- --system --seed S [--replicas 3|5] [--variant V] --trace
 *
 * Runs the system simulation (production coordinator replicas over a
 * simulated world) for a range of seeds, one after the other, and prints
 * `sim: N seeds, V violations`; a failing seed prints its replay command and
 * the end of its trace.
 */
import { parseArgs } from 'node:util';
import { intArg as sharedIntArg } from '../int-arg.js';
import { SYSTEM_VARIANTS, type SystemVariant } from './planted.js';
import { DEFAULT_FAULT_MS, DEFAULT_HEAL_MS, runSystemSeed, type SystemSimResult } from './system-sim.js';

function usage(message: string): never {
  process.stderr.write(
    `${message}\n` +
      'usage: npm run sim -- --system --seeds N [--from S] [--replicas 3|5] [--nodes K] [--shards N] [--variant V] [--fault-ms MS]\n' +
      '       npm run sim -- --system --seed S [--replicas 3|5] [--variant V] --trace\n' +
      `variants (planted bugs that must be caught; lease-from-receipt wants --fault-ms 15000): ${SYSTEM_VARIANTS.filter((v) => v !== 'none').join(', ')}\n`,
  );
  process.exit(2);
}

function intArg(v: string | undefined, name: string, dflt: number, min: number): number {
  return sharedIntArg(v, name, dflt, min, usage);
}

/** The replay command of one seed. */
export function replayCommand(r: Pick<SystemSimResult, 'seed' | 'flags'>): string {
  return `npm run sim -- --system --seed ${r.seed}${r.flags ? ` ${r.flags}` : ''} --trace`;
}

/**
 * What a failing seed prints: its violations, its replay command and the end
 * of its trace, kept to the lines that name a replica, node or shard of the
 * first violation (the whole trace is one --trace away).
 */
export function describeFailure(r: SystemSimResult, traceLines = 40): string {
  const lines = [`seed ${r.seed}: VIOLATION`];
  for (const v of r.violations.slice(0, 3)) lines.push(`  ${v.property} at ${v.atMs} ms: ${v.detail}`);
  lines.push(`  replay: ${replayCommand(r)}`);
  const names = [...new Set(r.violations[0]?.detail.match(/\b(?:[cn]\d+|shard \d+)\b/g) ?? [])];
  const relevant = (l: string): boolean => l.includes('VIOLATION') || names.some((n) => new RegExp(`\\b${n}\\b`).test(l));
  const picked = (names.length > 0 ? r.trace.filter(relevant) : r.trace).slice(-traceLines);
  lines.push(`  last ${picked.length} trace lines${names.length > 0 ? ` naming ${names.join(', ')}` : ''}:`);
  for (const l of picked) lines.push(`    ${l}`);
  return lines.join('\n');
}

export async function systemMain(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        system: { type: 'boolean' },
        seeds: { type: 'string' },
        from: { type: 'string' },
        seed: { type: 'string' },
        replicas: { type: 'string' },
        nodes: { type: 'string' },
        shards: { type: 'string' },
        variant: { type: 'string' },
        trace: { type: 'boolean' },
        'fault-ms': { type: 'string' },
        'heal-ms': { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    });
  } catch (e) {
    usage((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) usage('Deterministic simulation of the coordinator replicas over a simulated world.');
  const replicas = intArg(v.replicas, 'replicas', 3, 1);
  if (replicas !== 3 && replicas !== 5) usage('--replicas must be 3 or 5');
  const variant = (v.variant ?? 'none') as SystemVariant;
  if (!SYSTEM_VARIANTS.includes(variant)) usage(`unknown --variant "${v.variant}"`);
  const nodes = intArg(v.nodes, 'nodes', 8, 0);
  const shards = intArg(v.shards, 'shards', 8, 1);
  const faultMs = intArg(v['fault-ms'], 'fault-ms', DEFAULT_FAULT_MS, 0);
  const healMs = intArg(v['heal-ms'], 'heal-ms', DEFAULT_HEAL_MS, 1);
  const out = (s: string): void => void process.stdout.write(`${s}\n`);

  if (v.seed !== undefined) {
    const seed = intArg(v.seed, 'seed', 1, 0);
    const r = await runSystemSeed({ seed, replicas, nodes, shards, variant, faultMs, healMs, ...(v.trace ? { trace: out } : {}) });
    if (r.violations.length > 0) out(describeFailure(r, v.trace ? 0 : 40));
    out(`seed ${seed}: ${r.simulatedMs} simulated ms, ${r.stats.acked} acknowledged, ${r.stats.readsServed} reads served, ${r.stats.leaderChanges} leader changes, ${r.stats.crashes} crashes, ${r.stats.partitions} partitions, ${r.stats.pauses} pauses, ${r.stats.nodeCrashes} node crashes, ${r.stats.nodeCuts} node cuts, ${r.stats.declaredFailed} failures declared, ${r.stats.leaseGrants} lease grants, ${r.stats.writesAcked}/${r.stats.writes} data writes acknowledged, ${r.stats.inSyncRemovals} in-sync removals, ${r.stats.inSyncJoins} in-sync joins, ${r.stats.adminOperations} operator actions, converged ${r.convergedAfterMs ?? 'never'} ms and all copies in sync ${r.inSyncAfterMs ?? 'never'} ms after healing`);
    out(`sim: 1 seeds, ${r.violations.length > 0 ? 1 : 0} violations`);
    return r.violations.length > 0 ? 1 : 0;
  }

  const count = intArg(v.seeds, 'seeds', 20, 1);
  const from = intArg(v.from, 'from', 1, 0);
  const started = Date.now();
  let lastProgress = started;
  let bad = 0;
  let simulatedMs = 0;
  let maxConverge = 0;
  let maxInSync = 0;
  process.stderr.write(`sim: system, seeds ${from}..${from + count - 1}, ${replicas} replicas${variant !== 'none' ? `, variant ${variant}` : ''}\n`);
  for (let seed = from; seed < from + count; seed++) {
    const r = await runSystemSeed({ seed, replicas, nodes, shards, variant, faultMs, healMs });
    simulatedMs += r.simulatedMs;
    maxConverge = Math.max(maxConverge, r.convergedAfterMs ?? 0);
    maxInSync = Math.max(maxInSync, r.inSyncAfterMs ?? 0);
    if (r.violations.length > 0) {
      bad++;
      if (bad <= 5) out(describeFailure(r));
    }
    if (Date.now() - lastProgress > 5_000) {
      lastProgress = Date.now();
      process.stderr.write(`sim: ${seed - from + 1}/${count} seeds, ${bad} with violations\n`);
    }
  }
  const secs = (Date.now() - started) / 1000;
  out(`sim: ${(simulatedMs / 1000 / secs).toFixed(1)} simulated s per wall s over ${secs.toFixed(1)} s; converged after healing in max ${maxConverge} ms, all copies in sync in max ${maxInSync} ms (budget ${healMs})`);
  out(`sim: ${count} seeds, ${bad} violations`);
  return bad > 0 ? 1 : 0;
}
