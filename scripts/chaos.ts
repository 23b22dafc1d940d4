/**
 * npm run chaos -- --duration SECONDS --seed S [--history FILE] [--no-partitions] [--keep]
 *
 * A randomized but seeded run of real processes under faults (kills, pauses,
 * partitions) and a client workload, checked for linearizability, lost
 * acknowledged writes and convergence (scripts/chaos/run.ts). Exits 0 only
 * when every check passed; 1 when one failed; 2 on a usage or setup error.
 */
import { parseChaosArgs } from './chaos/args.js';
import { runChaos } from './chaos/run.js';

let args;
try {
  args = parseChaosArgs(process.argv.slice(2), () => Math.floor(Math.random() * 0x1_0000_0000));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(2);
}
// The cluster's and the firewall's exit hooks kill every child, delete this run's rules and remove the temp dir.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    process.stderr.write(`chaos: ${sig}: cleaning up (seed ${args.seed})\n`);
    process.exit(130);
  });
}
process.exitCode = await runChaos(args, { out: (text) => process.stdout.write(text) });
