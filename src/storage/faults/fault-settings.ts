import { z } from 'zod';
import { formatZodIssues, intInRange, numberInRange, strictObject } from '../../config/index.js';
import { ConfigError, ConfigErrorCode } from '../../errors/index.js';

/** The environment variable that turns disk-fault injection on (see ./index.ts). */
export const FAULTS_ENV = 'TORUA_FAULTS';

/** Longer than any Raft timeout by far, short enough that a typo (ms for s) cannot hang a test run for minutes. */
const MAX_SYNC_DELAY_MS = 30_000;
/** The PRNG takes 32 bits. */
const MAX_SEED = 2 ** 32 - 1;
/** Whatever a JSON object of six small fields takes, with room for spaces. */
const MAX_SWITCH_CHARS = 1_000;

const rate = numberInRange(0, 1);
const delayMs = intInRange(0, MAX_SYNC_DELAY_MS);

export const faultSettingsSchema = strictObject({
  /** Of the synced writes, the fraction that fail (before anything is written). */
  syncFailRate: rate.default(0),
  /** Of the synced writes, the fraction delayed by `syncDelayMs`. */
  syncDelayRate: rate.default(1),
  /** `[min, max]`: a delayed write completes this long after it was written (uniform, inclusive). */
  syncDelayMs: z
    .tuple([delayMs, delayMs], { error: `expected [min, max]: two integers from 0 to ${MAX_SYNC_DELAY_MS}` })
    .default([0, 0])
    .superRefine(([min, max], ctx) => {
      if (min > max) ctx.addIssue({ code: 'custom', path: [0], input: min, message: `expected at most max (${max})` });
    }),
  /** Of the synced batches with messages, the fraction after which the process exits before applying them (a follower's messages not sent yet; a leader's left while it wrote). */
  crashBetweenPersistAndSendRate: rate.default(0),
  /** Decides every fault; one is drawn (and logged) when absent, so a run can be replayed. */
  seed: intInRange(0, MAX_SEED).optional(),
  /** Faults only while this replica is the leader. */
  onlyWhenLeader: z.boolean({ error: 'expected true or false' }).default(false),
});

export type FaultSettings = Omit<z.infer<typeof faultSettingsSchema>, 'seed'> & { readonly seed: number };

/**
 * The value of TORUA_FAULTS: undefined when unset or empty (no faults), or
 * the settings. A bad value throws a ConfigError naming the field, so the
 * process refuses to start rather than run with faults it was not asked for.
 * `drawSeed` supplies the seed when the value names none.
 */
export function parseFaultSwitch(text: string | undefined, drawSeed: () => number): FaultSettings | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  if (text.length > MAX_SWITCH_CHARS) throw invalid([`expected at most ${MAX_SWITCH_CHARS} characters, got ${text.length}`]);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw invalid([`expected a JSON object such as {"syncFailRate":0.05,"seed":7}: ${(e as Error).message}`]);
  }
  const parsed = faultSettingsSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) throw invalid(formatZodIssues(parsed.error.issues, value));
  return { ...parsed.data, seed: parsed.data.seed ?? drawSeed() };
}

function invalid(issues: readonly string[]): ConfigError {
  return new ConfigError({ code: ConfigErrorCode.Invalid, file: FAULTS_ENV, issues }, issues.map((line) => `${FAULTS_ENV}: ${line}`).join('\n'));
}
