/**
 * The abort signal of one bounded call: it fires when the call's own time is
 * up or when any of the callers' signals fires, and remembers which, since a
 * timeout is retried elsewhere and a caller's abort is not.
 *
 * The deadline is a timer on the given Timers (so the call runs the same
 * under the simulator's time), not AbortSignal.timeout: Node holds a timeout
 * signal only weakly, and one that only an AbortSignal.any refers to can be
 * collected before it fires (nodejs/node#57736), leaving a call to a silent
 * peer waiting for seconds.
 */
import { realTimers, type Timers } from './clock.js';

export interface DeadlineSignal {
  readonly signal: AbortSignal;
  /** The deadline fired (not a caller's signal). */
  timedOut(): boolean;
  /** Cancels the timer and detaches from the callers' signals; the signal stays as it is. */
  dispose(): void;
}

export function deadlineSignal(ms: number, parents: readonly (AbortSignal | null | undefined)[] = [], timers: Timers = realTimers): DeadlineSignal {
  const controller = new AbortController();
  let timedOut = false;
  const attached: AbortSignal[] = [];
  const onParentAbort = function (this: AbortSignal): void {
    timer.cancel();
    detach();
    controller.abort(this.reason);
  };
  const detach = (): void => {
    for (const p of attached) p.removeEventListener('abort', onParentAbort);
    attached.length = 0;
  };
  const timer = timers.after(ms, () => {
    timedOut = true;
    detach();
    controller.abort(new DOMException(`no answer within ${ms} ms`, 'TimeoutError'));
  });
  for (const p of parents) {
    if (p === null || p === undefined) continue;
    if (p.aborted) {
      timer.cancel();
      detach();
      controller.abort(p.reason);
      break;
    }
    p.addEventListener('abort', onParentAbort, { once: true });
    attached.push(p);
  }
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose() {
      timer.cancel();
      detach();
    },
  };
}

/** Runs `call` under a deadline signal and drops the deadline when the call settles. */
export async function withDeadline<T>(ms: number, parents: readonly (AbortSignal | null | undefined)[], timers: Timers, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = deadlineSignal(ms, parents, timers);
  try {
    return await call(deadline.signal);
  } finally {
    deadline.dispose();
  }
}
