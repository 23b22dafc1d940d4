/**
 * The bounded chaos run of `npm test`: the compiled `scripts/chaos.ts`
 * against real processes, two fixed seeds of 40 s each (the long runs are
 * `npm run chaos`), with iptables partitions where root and iptables exist (otherwise
 * without them, with a notice). Each run must end with exit 0 and the
 * closing line; a failing run prints its whole output, which names the seed
 * and the command that replays it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { partitionUnsupportedReason } from '../../scripts/chaos/firewall.js';
import { checkBuilt, REPO_ROOT } from '../support/cluster-harness.js';

const CHAOS_JS = path.join(REPO_ROOT, 'dist/scripts/chaos.js');
const SEEDS = [1, 2] as const;
const DURATION_S = 40;
/** A run: start-up, the faults, convergence (bounded at 30 s) and the checks. */
const RUN_TIMEOUT_MS = 150_000;

const noPartitions = partitionUnsupportedReason();

beforeAll(() => {
  checkBuilt();
  if (!fs.existsSync(CHAOS_JS)) throw new Error(`${CHAOS_JS} is missing: run \`npm run build\` before the integration tests`);
  if (noPartitions !== undefined) console.warn(`chaos.test: iptables partitions skipped (${noPartitions}); running with --no-partitions`);
});

describe('npm run chaos (bounded)', () => {
  for (const seed of SEEDS) {
    it(
      `seed ${seed}, ${DURATION_S} s: linearizable, nothing lost, converged`,
      async () => {
        const args = [CHAOS_JS, '--duration', String(DURATION_S), '--seed', String(seed), ...(noPartitions === undefined ? [] : ['--no-partitions'])];
        const run = await execa(process.execPath, args, {
          cwd: REPO_ROOT,
          reject: false,
          all: true,
          timeout: RUN_TIMEOUT_MS,
          killSignal: 'SIGINT',
          env: { ...process.env, NODE_OPTIONS: '' },
        });
        const output = String(run.all ?? '');
        expect(run.exitCode, output).toBe(0);
        expect(String(run.stdout).trimEnd().split('\n').at(-1), output).toBe('chaos: linearizable=yes lost=0 converged=yes');
      },
      RUN_TIMEOUT_MS + 10_000,
    );
  }
});
