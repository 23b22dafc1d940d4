/** `npm run chaos -- --duration SECONDS --seed S [--history FILE] [--no-partitions] [--disk-faults] [--keep]`, checked with bounds. */
import { z } from 'zod';
import { formatZodIssues } from '../../src/config/index.js';

export const USAGE = 'usage: npm run chaos -- --duration SECONDS --seed S [--history FILE] [--no-partitions] [--disk-faults] [--keep]';
export const MAX_DURATION_S = 24 * 3_600;

const argsSchema = z.strictObject({
  duration: z.coerce.number({ error: 'expected a number of seconds' }).int({ error: 'expected whole seconds' }).min(10).max(MAX_DURATION_S),
  seed: z.coerce.number({ error: 'expected an integer' }).int({ error: 'expected an integer' }).min(0).max(0xffff_ffff),
  history: z.string().min(1).max(4_096).optional(),
  partitions: z.boolean(),
  /** Coordinators run with TORUA_FAULTS (failing, slow and crashing log writes on the leader). */
  diskFaults: z.boolean(),
  keep: z.boolean(),
});

export type ChaosArgs = z.infer<typeof argsSchema>;

/** The flags, or an Error whose message names the flag and says what was expected. */
export function parseChaosArgs(argv: readonly string[], randomSeed: () => number): ChaosArgs {
  const raw: Record<string, unknown> = { duration: 120, partitions: true, diskFaults: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a}: expected a value\n${USAGE}`);
      return v;
    };
    if (a === '--duration') raw['duration'] = value();
    else if (a === '--seed') raw['seed'] = value();
    else if (a === '--history') raw['history'] = value();
    else if (a === '--no-partitions') raw['partitions'] = false;
    else if (a === '--disk-faults') raw['diskFaults'] = true;
    else if (a === '--keep') raw['keep'] = true;
    else throw new Error(`unknown argument ${JSON.stringify(a)}\n${USAGE}`);
  }
  raw['seed'] ??= randomSeed();
  const parsed = argsSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new Error(`${formatZodIssues(parsed.error.issues, raw).map((l) => `--${l}`).join('; ')}\n${USAGE}`);
  return parsed.data;
}
