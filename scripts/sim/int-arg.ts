/** An integer flag of the sim command: its default when absent, else an integer ≥ min, or `usage` says what is wrong. */
export function intArg(v: string | undefined, name: string, dflt: number, min: number, usage: (message: string) => never): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) usage(`--${name} must be an integer ≥ ${min}, got "${v}"`);
  return n;
}
