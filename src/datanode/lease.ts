/**
 * The node's lease and its view of the routing table: renews periodically,
 * and on demand when a request names an epoch newer than the node knows.
 * At most one renewal is in flight; a demand joins it.
 *
 * The lease runs from when the renewal was *sent* (contract.ts), measured on
 * the node's monotonic clock, so the node stops serving no later than the
 * leader believes it does. A renewal is a series of short attempts through
 * any coordinator replica (lease-attempt.ts; README, "Leases").
 */
import { sleepOn, type Clock, type Timer, type Timers } from '../common/clock.js';
import type { Logger } from '../observability/index.js';
import type { CoordinatorLink, LeaseGrant, LeaseInfo, HeldCopy, LeaseRequest, RecoveryProgress, ShardLoad } from './contract.js';
import { describe } from './errors.js';
import { deadlineSignal } from '../common/deadline-signal.js';
import { abortable, attemptTimeoutMs, isFinal, pause } from './lease-attempt.js';
import type { NodeSettings } from './options.js';

export interface LeaseHolderDeps {
  readonly id: string;
  readonly identity: string;
  readonly coordinators: CoordinatorLink;
  readonly logger: Logger;
  /** Monotonic: the lease is measured on it. */
  readonly clock: Clock;
  readonly timers: Timers;
  readonly settings: NodeSettings;
  /** Aborted when the node stops. */
  readonly signal: AbortSignal;
  readonly recoveries: () => RecoveryProgress[];
  /** Per-shard load to report (none: not reported). */
  readonly load?: () => ShardLoad[];
  /** The copies the node holds (none: not reported). */
  readonly holdings?: () => HeldCopy[];
  /** Every grant, in the order the renewals were sent. */
  readonly onGrant: (grant: LeaseGrant) => void;
  /** The lease became valid or ran out. */
  readonly onLeaseChange: (valid: boolean) => void;
}

const FIRST_RENEW_MS = 250;
/** Before the first grant: the attempt and budget sizes assume this lease. */
const DEFAULT_LEASE_MS = 2_000;
const MIN_RENEWAL_BUDGET_MS = 500;
/** Weight of the newest grant's round trip in the running estimate. */
const LATENCY_WEIGHT = 0.2;
/** Bounds a renewal against links that fail at once forever. */
const MAX_ATTEMPTS_PER_RENEWAL = 32;
const MAX_RETRY_PAUSE_MS = 100;
const RETRY_AFTER_FAILED_RENEWAL_MS = 10;

/** The node's side of a lease: it holds and renews its own (the leader's LeaseKeeper grants them). */
export class LeaseHolder {
  grant: LeaseGrant | null = null;
  private validUntilMs = -Infinity;
  private inflight: Promise<void> | null = null;
  private loop: Timer | undefined;
  private expiry: Timer | undefined;
  private failing = false;
  /** The last renewal spent its attempts without a grant (not refused for good): the next starts at once. */
  private retrySoon = false;
  /** The highest term of a grant taken, and when the request of the last grant taken was sent. */
  private highestTerm = 0;
  private lastSentAtMs = -Infinity;
  /** A running estimate of how long a grant takes to come back (0 before the first). */
  private latencyMs = 0;
  private wasValid = false;
  private stopped = false;

  constructor(private readonly deps: LeaseHolderDeps) {}

  valid(): boolean {
    return this.deps.clock.nowMs() < this.validUntilMs;
  }

  info(): LeaseInfo {
    const remainingMs = Math.max(0, this.validUntilMs - this.deps.clock.nowMs());
    return {
      valid: remainingMs > 0,
      remainingMs: Number.isFinite(remainingMs) ? Math.round(remainingMs) : 0,
      leader: this.grant?.leader ?? null,
      term: this.grant?.term ?? null,
    };
  }

  /** Renews at once, then every period. */
  start(): void {
    void this.renew().finally(() => this.schedule());
  }

  stop(): void {
    this.stopped = true;
    this.loop?.cancel();
    this.expiry?.cancel();
  }

  /** Renews now (joining a renewal in flight); never rejects: a failure leaves the old lease to run out. */
  renew(): Promise<void> {
    this.inflight ??= this.renewOnce().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /** A renewal for a request that saw a newer epoch: waited for at most refreshWaitMs. */
  async refresh(): Promise<void> {
    const ac = new AbortController();
    await Promise.race([this.renew(), sleepOn(this.deps.timers, this.deps.settings.refreshWaitMs, ac.signal)]);
    ac.abort();
  }

  private periodMs(): number {
    // A renewal that ran out of attempts (no replica could grant in time) is followed at once by the next:
    // waiting a period would keep the lease lapsed that much longer after the cluster is back.
    if (this.retrySoon) return RETRY_AFTER_FAILED_RENEWAL_MS;
    if (this.deps.settings.renewEveryMs !== undefined) return this.deps.settings.renewEveryMs;
    // No grant yet, or an empty one (a node that left gets no lease): ask now and then, not in a loop.
    if (this.grant === null || this.grant.leaseMs === 0) return FIRST_RENEW_MS;
    return Math.max(1, Math.floor(this.grant.leaseMs / 4));
  }

  private schedule(): void {
    if (this.stopped) return;
    this.loop = this.deps.timers.after(this.periodMs(), () => {
      void this.renew().finally(() => this.schedule());
    });
  }

  /**
   * One renewal: attempts one after another, each bounded by a fraction of
   * the lease, until one is granted or the renewal's budget (a lease) is
   * spent. The link picks each attempt's replica (the one that answered last,
   * or the leader named, then the others): a leader that went silent costs
   * one short attempt, not the lease. Each attempt's lease counts from when
   * THAT attempt was sent.
   */
  private async renewOnce(): Promise<void> {
    const { deps } = this;
    if (this.stopped) return;
    const leaseMs = this.grant === null || this.grant.leaseMs === 0 ? DEFAULT_LEASE_MS : this.grant.leaseMs;
    // An answer later than a lease period is of no use: the lease it grants has run out.
    const deadlineMs = deps.clock.nowMs() + Math.max(MIN_RENEWAL_BUDGET_MS, leaseMs);
    const attemptMs = attemptTimeoutMs(leaseMs, this.latencyMs);
    let fastFailures = 0;
    let lastError: unknown;
    this.retrySoon = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS_PER_RENEWAL && !this.stopped; attempt++) {
      const leftMs = deadlineMs - deps.clock.nowMs();
      if (leftMs <= 0) break;
      const sentAtMs = deps.clock.nowMs();
      const bound = deadlineSignal(Math.max(1, Math.ceil(Math.min(attemptMs, leftMs))), [deps.signal], deps.timers);
      let grant: LeaseGrant;
      try {
        grant = await abortable(deps.coordinators.renewLease(this.request(), bound.signal), bound.signal);
      } catch (e) {
        lastError = e;
        if (isFinal(e)) {
          this.failed(e);
          return;
        }
        // Refused at once (a dead replica, no leader yet): the next replica at once, then a short, growing pause.
        fastFailures = deps.clock.nowMs() - sentAtMs < attemptMs / 2 ? fastFailures + 1 : 0;
        if (fastFailures > 1) await pause(deps.timers, Math.min(MAX_RETRY_PAUSE_MS, 10 * 2 ** (fastFailures - 2)), deadlineMs - deps.clock.nowMs(), deps.signal);
        continue;
      } finally {
        bound.dispose();
      }
      if (this.stopped) return;
      const tookMs = deps.clock.nowMs() - sentAtMs;
      this.latencyMs = this.latencyMs === 0 ? tookMs : (1 - LATENCY_WEIGHT) * this.latencyMs + LATENCY_WEIGHT * tookMs;
      const refused = this.accept(grant, sentAtMs);
      if (refused === undefined) return;
      lastError = new Error(refused);
    }
    if (this.stopped) return;
    this.retrySoon = true;
    this.failed(lastError);
  }

  private request(): LeaseRequest {
    const { deps } = this;
    const configVersion = this.grant?.configVersion;
    return {
      id: deps.id,
      identity: deps.identity,
      recoveries: deps.recoveries(),
      ...(configVersion === undefined ? {} : { configVersion }),
      ...(deps.load === undefined ? {} : { load: deps.load() }),
      ...(deps.holdings === undefined ? {} : { holdings: deps.holdings() }),
    };
  }

  private failed(error: unknown): void {
    if (!this.failing) this.deps.logger.warn('lease renewal failed; the lease runs out unless a later one succeeds', { err: error, reason: describe(error) });
    this.failing = true;
  }

  /**
   * Takes a grant answered to an attempt sent at `sentAtMs`, or says why
   * not. Refused: a grant of an older term than one already taken (an old
   * leader's late answer: its view of the table may be older than what this
   * node already acts on) and one whose request was sent before the request
   * of a grant already taken (superseded). Neither shortens the lease.
   */
  private accept(grant: LeaseGrant, sentAtMs: number): string | undefined {
    const { deps } = this;
    if (grant.term < this.highestTerm) {
      deps.logger.warn('a lease grant of an older term was ignored', { term: grant.term, highestTerm: this.highestTerm, leader: grant.leader });
      return `a grant of term ${grant.term} after one of term ${this.highestTerm}`;
    }
    if (sentAtMs < this.lastSentAtMs) {
      deps.logger.warn('a lease grant answering an older request was ignored', { term: grant.term, leader: grant.leader });
      return 'a grant answering a request older than the last granted one';
    }
    if (this.failing) deps.logger.info('lease renewed again', { leader: grant.leader, term: grant.term });
    this.failing = false;
    this.highestTerm = grant.term;
    this.lastSentAtMs = sentAtMs;
    this.validUntilMs = Math.max(this.validUntilMs, sentAtMs + grant.leaseMs);
    this.grant = grant;
    deps.onGrant(grant);
    this.armExpiry();
    this.noteValidity();
    return undefined;
  }

  private armExpiry(): void {
    this.expiry?.cancel();
    const ms = this.validUntilMs - this.deps.clock.nowMs();
    if (ms > 0 && Number.isFinite(ms)) this.expiry = this.deps.timers.after(ms + 1, () => this.noteValidity());
  }

  private noteValidity(): void {
    const valid = this.valid();
    if (valid === this.wasValid) return;
    this.wasValid = valid;
    if (valid) this.deps.logger.info('lease gained', { leader: this.grant?.leader, term: this.grant?.term });
    else this.deps.logger.warn('lease lost: refusing reads and writes until a renewal succeeds');
    this.deps.onLeaseChange(valid);
  }
}
