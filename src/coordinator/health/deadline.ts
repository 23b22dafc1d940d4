/** A call through a port that never settles must not hold a slot for ever: it is given up on a little after its own timeout. */
const GRACE_MS = 50;

export async function withDeadline<T>(call: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  // Given up on at the deadline, the call may still fail later: that is no news.
  call.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs + GRACE_MS);
  });
  try {
    return await Promise.race([call, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
