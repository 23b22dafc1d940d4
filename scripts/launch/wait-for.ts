// The one condition poll for tests, benches and chaos: waits for a state, never a fixed sleep.

export interface WaitOptions {
  /** How long before giving up (generous: a bound, not a figure). */
  readonly timeoutMs?: number;
  /** Pause between polls. */
  readonly intervalMs?: number;
  /** What to add to the timeout message (the last state seen); by default the probe's last error. */
  readonly describe?: () => string;
}

/**
 * Polls `probe` until it returns something other than undefined or false,
 * and returns that. A probe that throws is polled again (a process still
 * starting refuses connections); at the deadline the error names `what` and
 * the last error or `describe()`. `opts` may be just the timeout in ms.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  opts: number | WaitOptions = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 10, describe } = typeof opts === 'number' ? { timeoutMs: opts } : opts;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    if (performance.now() > deadline) {
      const detail = describe?.() ?? (lastError === undefined ? '' : String(lastError));
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `: ${detail}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const now = (): number => performance.now();
