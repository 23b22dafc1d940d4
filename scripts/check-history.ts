/**
 * npm run check-history -- FILE [--final FILE2]
 *
 * Checks a chaos run's history for linearizability per key and, with the
 * final reads, for lost acknowledged writes (scripts/chaos/linearizability/command.ts).
 */
import { checkHistoryCommand } from './chaos/linearizability/command.js';

process.exitCode = await checkHistoryCommand(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
