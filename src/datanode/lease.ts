/**
 * The node's lease and its view of the routing table: renews periodically,
 * and on demand when a request names an epoch newer than the node knows.
 * At most one renewal is in flight; a demand joins it.
 *
 * The lease runs from when the renewal was *sent* (contract.ts), measured on
 * the node's monotonic clock, so the node stops serving no later than the
 * leader believes it does.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../observability/index.js';
import type { CoordinatorLink, LeaseGrant, LeaseInfo, RecoveryProgress, ShardLoad } from './contract.js';
import { describe } from './errors.js';
import type { NodeSettings } from './options.js';

export interface LeaseKeeperDeps {
  readonly id: string;
  readonly identity: string;
  readonly coordinators: CoordinatorLink;
  readonly logger: Logger;
  readonly nowMs: () => number;
  readonly settings: NodeSettings;
  /** Aborted when the node stops. */
  readonly signal: AbortSignal;
  readonly recoveries: () => RecoveryProgress[];
  /** Per-shard load to report (none: not reported). */
  readonly load?: () => ShardLoad[];
  /** Every grant, in the order the renewals were sent. */
  readonly onGrant: (grant: LeaseGrant) => void;
  /** The lease became valid or ran out. */
  readonly onLeaseChange: (valid: boolean) => void;
}

const FIRST_RENEW_MS = 250;

export class LeaseKeeper {
  grant: LeaseGrant | null = null;
  private validUntilMs = -Infinity;
  private inflight: Promise<void> | null = null;
  private loop: NodeJS.Timeout | undefined;
  private expiry: NodeJS.Timeout | undefined;
  private failing = false;
  private wasValid = false;
  private stopped = false;

  constructor(private readonly deps: LeaseKeeperDeps) {}

  valid(): boolean {
    return this.deps.nowMs() < this.validUntilMs;
  }

  info(): LeaseInfo {
    const remainingMs = Math.max(0, this.validUntilMs - this.deps.nowMs());
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
    clearTimeout(this.loop);
    clearTimeout(this.expiry);
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
    await Promise.race([this.renew(), delay(this.deps.settings.refreshWaitMs, undefined, { signal: ac.signal }).catch(() => undefined)]);
    ac.abort();
  }

  private periodMs(): number {
    if (this.deps.settings.renewEveryMs !== undefined) return this.deps.settings.renewEveryMs;
    // No grant yet, or an empty one (a node that left gets no lease): ask now and then, not in a loop.
    if (this.grant === null || this.grant.leaseMs === 0) return FIRST_RENEW_MS;
    return Math.max(1, Math.floor(this.grant.leaseMs / 4));
  }

  private schedule(): void {
    if (this.stopped) return;
    this.loop = setTimeout(() => {
      void this.renew().finally(() => this.schedule());
    }, this.periodMs());
  }

  private async renewOnce(): Promise<void> {
    const { deps } = this;
    if (this.stopped) return;
    const sentAtMs = deps.nowMs();
    // An answer later than a lease period is of no use: the lease it grants has run out.
    const timeoutMs = Math.max(500, this.grant?.leaseMs ?? 2_000);
    let grant: LeaseGrant;
    try {
      grant = await deps.coordinators.renewLease(
        { id: deps.id, identity: deps.identity, recoveries: deps.recoveries(), ...(deps.load === undefined ? {} : { load: deps.load() }) },
        AbortSignal.any([deps.signal, AbortSignal.timeout(timeoutMs)]),
      );
    } catch (e) {
      if (!this.failing && !this.stopped) deps.logger.warn('lease renewal failed; the lease runs out unless a later one succeeds', { err: e, reason: describe(e) });
      this.failing = true;
      return;
    }
    if (this.stopped) return;
    if (this.failing) deps.logger.info('lease renewed again', { leader: grant.leader, term: grant.term });
    this.failing = false;
    this.validUntilMs = Math.max(this.validUntilMs, sentAtMs + grant.leaseMs);
    this.grant = grant;
    deps.onGrant(grant);
    this.armExpiry();
    this.noteValidity();
  }

  private armExpiry(): void {
    clearTimeout(this.expiry);
    const ms = this.validUntilMs - this.deps.nowMs();
    if (ms > 0 && Number.isFinite(ms)) {
      this.expiry = setTimeout(() => this.noteValidity(), ms + 1);
      this.expiry.unref();
    }
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
