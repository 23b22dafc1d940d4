/**
 * The node's side of leases (src/datanode/lease.ts): how one renewal spends
 * its attempts, from when each grant counts, and which grants it refuses.
 * Real timers with short leases; the link is scripted per attempt.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { monotonicClock, realTimers } from '../../src/common/clock.js';
import type { CoordinatorLink, LeaseGrant, LeaseRequest } from '../../src/datanode/contract.js';
import { LeaseHolder } from '../../src/datanode/lease.js';
import { attemptTimeoutMs } from '../../src/datanode/lease-attempt.js';
import { nodeSettings } from '../../src/datanode/options.js';
import { ClusterError, ClusterErrorCode } from '../../src/errors/index.js';
import { silentLogger } from '../../src/observability/index.js';

const LEASE_MS = 400;

function grantOf(term: number, leader = 'c1', leaseMs = LEASE_MS): LeaseGrant {
  return { leaseMs, leader, term, status: 'healthy', shardCount: 4, maxValueBytes: 1024, shards: [], addresses: {} };
}

/** Waits for the signal to abort, then rejects: a replica that never answers. */
function silent(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new Error('no answer')), { once: true }));
}

type Attempt = (signal: AbortSignal | undefined) => Promise<LeaseGrant>;

/** A link that plays `script[i]` for the i-th attempt (the last one again after the script ends) and records when each was sent. */
class ScriptedLink implements CoordinatorLink {
  readonly sentAtMs: number[] = [];
  readonly requests: LeaseRequest[] = [];
  constructor(public script: Attempt[]) {}
  renewLease(req: LeaseRequest, signal?: AbortSignal): Promise<LeaseGrant> {
    this.sentAtMs.push(performance.now());
    this.requests.push(req);
    const step = this.script[Math.min(this.sentAtMs.length - 1, this.script.length - 1)]!;
    return step(signal);
  }
  register = async () => undefined;
  setInSync = async () => ({ epoch: 0 });
  drain = async () => undefined;
}

const keepers: LeaseHolder[] = [];
const life = new AbortController();
afterEach(() => {
  for (const k of keepers.splice(0)) k.stop();
});

function keeperOver(link: CoordinatorLink) {
  const grants: LeaseGrant[] = [];
  const keeper = new LeaseHolder({
    id: 'n1',
    identity: 'id',
    coordinators: link,
    logger: silentLogger,
    clock: monotonicClock,
    timers: realTimers,
    settings: nodeSettings({ id: 'n1', address: 'x:1', dataDir: '/nonexistent', capacity: 1, version: 't', renewEveryMs: 60_000 }),
    signal: life.signal,
    recoveries: () => [],
    onGrant: (g) => grants.push(g),
    onLeaseChange: () => undefined,
  });
  keepers.push(keeper);
  return { keeper, grants };
}

describe('lease keeper (node side)', () => {
  it('reports the settings version of the last grant it took, none before the first', async () => {
    const link = new ScriptedLink([async () => ({ ...grantOf(1), configVersion: 3 })]);
    const { keeper } = keeperOver(link);
    await keeper.renew();
    link.script = [async () => ({ ...grantOf(1), configVersion: 4 })];
    await keeper.renew();
    await keeper.renew();
    expect(link.requests.map((r) => r.configVersion)).toEqual([undefined, 3, 4]);
  });

  it('an attempt waits a few grant round trips, at least a tenth and at most a quarter of the lease', () => {
    expect(attemptTimeoutMs(1_000, 0)).toBe(100);
    expect(attemptTimeoutMs(1_000, 50)).toBe(150);
    expect(attemptTimeoutMs(1_000, 500)).toBe(250);
    expect(attemptTimeoutMs(100, 0)).toBe(50);
    expect(attemptTimeoutMs(60_000, 10)).toBe(6_000);
  });

  it('a silent replica costs one short attempt; the grant of the next one counts from when THAT attempt was sent', async () => {
    const link = new ScriptedLink([async () => grantOf(1)]);
    const { keeper, grants } = keeperOver(link);
    await keeper.renew();
    link.script = [silent, async () => grantOf(1, 'c2')];
    link.sentAtMs.length = 0;
    const started = performance.now();
    await keeper.renew();
    const tookMs = performance.now() - started;
    expect(link.sentAtMs).toHaveLength(2);
    // The first attempt was given up after a tenth of the lease or so, far inside the lease.
    expect(link.sentAtMs[1]! - link.sentAtMs[0]!).toBeGreaterThanOrEqual(attemptTimeoutMs(LEASE_MS, 0) - 5);
    expect(tookMs).toBeLessThan(LEASE_MS * 0.75);
    expect(grants.at(-1)!.leader).toBe('c2');
    const expectedRemaining = link.sentAtMs[1]! + LEASE_MS - performance.now();
    const remaining = keeper.info().remainingMs;
    expect(Math.abs(remaining - expectedRemaining)).toBeLessThanOrEqual(10);
    // Never longer than counted from the attempt's own send.
    expect(remaining).toBeLessThanOrEqual(Math.ceil(expectedRemaining) + 1);
  });

  it('refuses a grant of an older term than one it took (an old leader answering late) and goes on to the next replica', async () => {
    const link = new ScriptedLink([async () => grantOf(5)]);
    const { keeper, grants } = keeperOver(link);
    await keeper.renew();
    link.script = [async () => grantOf(4, 'old-leader'), async () => grantOf(5)];
    link.sentAtMs.length = 0;
    await keeper.renew();
    expect(link.sentAtMs).toHaveLength(2);
    expect(grants.map((g) => g.term)).toEqual([5, 5]);
    expect(keeper.info()).toMatchObject({ valid: true, term: 5, leader: 'c1' });
  });

  it('an old term alone never brings a lease back once it ran out', async () => {
    const link = new ScriptedLink([async () => grantOf(7, 'c1', 100)]);
    const { keeper, grants } = keeperOver(link);
    await keeper.renew();
    await new Promise((r) => setTimeout(r, 120));
    expect(keeper.valid()).toBe(false);
    link.script = [async () => grantOf(6, 'c9', 100)];
    await keeper.renew();
    expect(keeper.valid()).toBe(false);
    expect(grants.map((g) => g.term)).toEqual([7]);
  });

  it('an answer to an attempt already given up is never taken, whatever the link does with the abort', async () => {
    let lateAnswer!: (g: LeaseGrant) => void;
    const ignoresAbort: Attempt = () => new Promise((resolve) => (lateAnswer = resolve));
    const link = new ScriptedLink([ignoresAbort, async () => grantOf(2, 'c2')]);
    const { keeper, grants } = keeperOver(link);
    await keeper.renew();
    expect(grants.map((g) => g.leader)).toEqual(['c2']);
    lateAnswer(grantOf(3, 'late'));
    await new Promise((r) => setTimeout(r, 20));
    expect(grants.map((g) => g.leader)).toEqual(['c2']);
    expect(keeper.info().term).toBe(2);
  });

  it('stops at an answer no other replica would change (NOT_FOUND, CONFLICT)', async () => {
    const link = new ScriptedLink([
      async () => {
        throw new ClusterError({ code: ClusterErrorCode.NotFound, resource: 'node', id: 'n1' }, 'no node n1');
      },
    ]);
    const { keeper } = keeperOver(link);
    await keeper.renew();
    expect(link.sentAtMs).toHaveLength(1);
    expect(keeper.valid()).toBe(false);
  });

  it('with every replica refusing at once, tries again with growing pauses, bounded by a lease', async () => {
    const link = new ScriptedLink([
      async () => {
        throw new ClusterError({ code: ClusterErrorCode.NoLeader }, 'no leader');
      },
    ]);
    const { keeper } = keeperOver(link);
    const started = performance.now();
    await keeper.renew();
    const tookMs = performance.now() - started;
    // Before any grant the budget assumes a 2 s lease.
    expect(tookMs).toBeGreaterThanOrEqual(1_900);
    expect(tookMs).toBeLessThan(3_000);
    expect(link.sentAtMs.length).toBeGreaterThan(3);
    expect(link.sentAtMs.length).toBeLessThanOrEqual(32);
  });

  it('a renewal that ran out of attempts is followed at once by the next, not a renewal period later', async () => {
    const link = new ScriptedLink([async () => grantOf(1, 'c1', 300)]);
    const { keeper } = keeperOver(link);
    await keeper.renew();
    // From now on nothing answers for 700 ms (an election), then a new leader grants.
    const backAt = performance.now() + 700;
    link.script = [(signal) => (performance.now() < backAt ? silent(signal) : Promise.resolve(grantOf(2, 'c2', 300)))];
    // The renewal period is set to a minute here: only the retry can bring the lease back in time.
    keeper.start();
    while (!(keeper.valid() && keeper.info().term === 2) && performance.now() < backAt + 2_000) await new Promise((r) => setTimeout(r, 5));
    expect(keeper.info()).toMatchObject({ valid: true, term: 2 });
    expect(performance.now()).toBeLessThan(backAt + 600);
  });

  it('with no replica answering, the lease ends a lease after the last granted attempt was sent, never later', async () => {
    const link = new ScriptedLink([async () => grantOf(1, 'c1', 300)]);
    const { keeper } = keeperOver(link);
    const before = performance.now();
    await keeper.renew();
    const sent = link.sentAtMs[0]!;
    link.script = [silent];
    void keeper.renew();
    // Valid seen at a time taken before asking, invalid at a time taken after: both bound the lease's real end.
    let lastValidAt = -Infinity;
    let firstInvalidAt = Infinity;
    while (performance.now() < sent + 1_000) {
      const askedAt = performance.now();
      if (keeper.valid()) lastValidAt = askedAt;
      else {
        firstInvalidAt = performance.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    // The keeper counts from just before the link was called: between `before` and `sent`.
    expect(lastValidAt).toBeLessThan(sent + 300);
    expect(firstInvalidAt).toBeGreaterThanOrEqual(before + 300);
    expect(firstInvalidAt).toBeLessThan(sent + 1_000);
  });
});
