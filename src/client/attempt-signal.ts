/**
 * The abort signal of one attempt: fires when the attempt's own time is up
 * or when the caller's signal fires, and remembers which, since a timeout is
 * retried elsewhere and a caller's abort is not.
 */
export interface AttemptSignal {
  readonly signal: AbortSignal;
  /** The attempt's timer fired (not the caller's signal). */
  readonly timedOut: () => boolean;
  /** Clears the timer and detaches from the caller's signal. */
  readonly dispose: () => void;
}

export function attemptSignal(timeoutMs: number, parent?: AbortSignal | null): AttemptSignal {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`no answer within ${timeoutMs} ms`));
  }, timeoutMs);
  const onParentAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}
