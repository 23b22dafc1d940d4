/**
 * Registration's retries run on the node's timers and randomness: under a
 * SimTime and a fixed random the waits are exactly the backoff's, and a call
 * that never answers is abandoned at the call timeout of simulated time.
 */
import { describe, expect, test } from 'vitest';
import { SimTime } from '../../src/common/sim-time.js';
import type { CoordinatorLink, RegisterRequest } from '../../src/datanode/contract.js';
import { nodeSettings } from '../../src/datanode/options.js';
import { registerUntilDone } from '../../src/datanode/registration.js';
import { ClusterError, ClusterErrorCode } from '../../src/errors/index.js';
import { silentLogger } from '../../src/observability/index.js';

const req: RegisterRequest = { id: 'n1', address: 'n1.test:1', capacity: 4, version: 'test', identity: 'id-1' };

async function settle(time: SimTime, untilMs: number): Promise<void> {
  // Promise continuations first, then one simulated millisecond: what a call's answer arms is armed at the time it came.
  while (time.nowMs() < untilMs) {
    for (let i = 0; i < 10; i++) await Promise.resolve();
    time.advanceTo(Math.min(untilMs, time.nowMs() + 1));
  }
}

describe('registerUntilDone', () => {
  test('retries after exactly the backoff of the given random, on the given timers, and abandons a silent call at its timeout', async () => {
    const time = new SimTime(0);
    const settings = { ...nodeSettings({ id: 'n1', address: 'n1.test:1', dataDir: '/nonexistent', capacity: 4, version: 'test' }), coordinatorCallTimeoutMs: 400 };
    const calls: { atMs: number; signal: AbortSignal | undefined }[] = [];
    const coordinators = {
      register(_r: RegisterRequest, signal?: AbortSignal): Promise<void> {
        calls.push({ atMs: time.nowMs(), signal });
        if (calls.length === 1) return Promise.reject(new ClusterError({ code: ClusterErrorCode.Unavailable, reason: 'no leader' }, 'no leader'));
        // The second call is never answered: only its deadline ends it.
        if (calls.length === 2) return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));
        return Promise.resolve();
      },
    } as unknown as CoordinatorLink;
    const life = new AbortController();
    let done = false;
    const p = registerUntilDone(coordinators, req, '/nonexistent', settings, silentLogger, time, () => 0, life.signal).then(() => (done = true));
    await settle(time, 2_000);
    await Promise.race([p, Promise.resolve()]);
    expect(done).toBe(true);
    // random 0: half the ceiling. Retry 1 after 50 ms (ceiling 100), the silent call ends 400 ms later, retry 2 after 100 ms.
    expect(calls.map((c) => c.atMs)).toEqual([0, 50, 550]);
    await p;
    expect(calls[1]!.signal?.aborted).toBe(true);
    expect(calls[2]!.signal?.aborted).toBe(false);
  });
});
