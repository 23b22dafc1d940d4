/** Runs `torua ARGV…` in this process (src/cli/run.ts), capturing what it writes: for tests of one command's behaviour. */
import { run } from '../../src/cli/run.js';

export async function torua(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}
