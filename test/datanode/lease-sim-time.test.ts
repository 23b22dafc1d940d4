/**
 * The node's lease holder (src/datanode/lease.ts) on simulated time: its
 * renewal loop, attempt deadlines and expiry timer all run on the SimTime it
 * is given, so minutes of lease life pass in milliseconds of wall time and
 * every instant is exact. The link answers (or stays silent) at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimTime } from '../../src/common/sim-time.js';
import type { CoordinatorLink, LeaseGrant, LeaseRequest } from '../../src/datanode/contract.js';
import { LeaseHolder } from '../../src/datanode/lease.js';
import { nodeSettings } from '../../src/datanode/options.js';
import { silentLogger } from '../../src/observability/index.js';

const LEASE_MS = 1_000;

function grantOf(term: number): LeaseGrant {
  return { leaseMs: LEASE_MS, leader: 'c1', term, status: 'healthy', shardCount: 4, maxValueBytes: 1024, shards: [], addresses: {} };
}

/** Answers at once while `up`, else never (the attempt's own deadline ends it); records the simulated send times. */
class SwitchableLink implements CoordinatorLink {
  up = true;
  readonly sentAtMs: number[] = [];
  constructor(private readonly time: SimTime) {}
  renewLease(_req: LeaseRequest, signal?: AbortSignal): Promise<LeaseGrant> {
    this.sentAtMs.push(this.time.nowMs());
    if (this.up) return Promise.resolve(grantOf(1));
    return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new Error('no answer')), { once: true }));
  }
  register = async () => undefined;
  setInSync = async () => ({ epoch: 0 });
  drain = async () => undefined;
}

/** Lets the promise chains that fired timers started run to their next wait. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** Moves simulated time forward in 1 ms steps, settling after each, so every timer fires on its own millisecond. */
async function advance(time: SimTime, ms: number): Promise<void> {
  const until = time.nowMs() + ms;
  while (time.nowMs() < until) {
    time.advanceTo(time.nowMs() + 1);
    await settle();
  }
}

const holders: LeaseHolder[] = [];
const life = new AbortController();
afterEach(() => {
  for (const h of holders.splice(0)) h.stop();
});

function holderOn(time: SimTime, link: CoordinatorLink) {
  const changes: { atMs: number; valid: boolean }[] = [];
  const holder = new LeaseHolder({
    id: 'n1',
    identity: 'id',
    coordinators: link,
    logger: silentLogger,
    clock: time,
    timers: time,
    settings: nodeSettings({ id: 'n1', address: 'x:1', dataDir: '/nonexistent', capacity: 1, version: 't' }),
    signal: life.signal,
    recoveries: () => [],
    onGrant: () => undefined,
    onLeaseChange: (valid) => changes.push({ atMs: time.nowMs(), valid }),
  });
  holders.push(holder);
  return { holder, changes };
}

describe('lease holder on simulated time', () => {
  it('a lease counts from the send and runs out exactly a lease later, its expiry timer telling at once', async () => {
    const time = new SimTime(10_000);
    const link = new SwitchableLink(time);
    const { holder, changes } = holderOn(time, link);
    await holder.renew();
    expect(holder.valid()).toBe(true);
    expect(holder.info().remainingMs).toBe(LEASE_MS);
    expect(changes).toEqual([{ atMs: 10_000, valid: true }]);

    time.advanceTo(10_000 + LEASE_MS - 1);
    expect(holder.valid()).toBe(true);
    expect(holder.info().remainingMs).toBe(1);
    time.advanceTo(10_000 + LEASE_MS);
    expect(holder.valid()).toBe(false);
    // The expiry timer is armed one millisecond past the end, on the same simulated clock.
    time.advanceTo(10_000 + LEASE_MS + 1);
    expect(changes).toEqual([
      { atMs: 10_000, valid: true },
      { atMs: 10_000 + LEASE_MS + 1, valid: false },
    ]);
  });

  it('the renewal loop keeps the lease for a simulated minute, every quarter lease; a silent cluster lets it lapse a lease after the last grant', async () => {
    const time = new SimTime(0);
    const link = new SwitchableLink(time);
    const { holder, changes } = holderOn(time, link);
    holder.start();
    await settle();
    await advance(time, 60_000);
    expect(changes).toEqual([{ atMs: 0, valid: true }]);
    // A renewal at 0 and then one every leaseMs / 4.
    expect(link.sentAtMs.length).toBe(60_000 / (LEASE_MS / 4) + 1);
    expect(link.sentAtMs.slice(0, 3)).toEqual([0, LEASE_MS / 4, LEASE_MS / 2]);

    link.up = false;
    const lastGrantSentAtMs = link.sentAtMs.at(-1)!;
    await advance(time, 3 * LEASE_MS);
    expect(holder.valid()).toBe(false);
    expect(changes.at(-1)).toEqual({ atMs: lastGrantSentAtMs + LEASE_MS + 1, valid: false });
    // The silent attempts end on their simulated deadlines, so the holder kept trying the whole time.
    expect(link.sentAtMs.length).toBeGreaterThan(60_000 / (LEASE_MS / 4) + 1 + 4);

    link.up = true;
    const downUntilMs = time.nowMs();
    await advance(time, LEASE_MS);
    expect(holder.valid()).toBe(true);
    // Once the cluster answers again, the lease is back within one renewal period (plus an attempt's deadline).
    expect(changes.at(-1)!.valid).toBe(true);
    expect(changes.at(-1)!.atMs - downUntilMs).toBeLessThanOrEqual(LEASE_MS / 4 + 1);
  });
});
