/**
 * The leader's webhook (`notifications.webhookUrl`): every event the
 * routing table applies while this replica leads is POSTed to the receiver,
 * as `GET /events` shows it plus `cluster_id`, one at a time and in order.
 *
 * Nothing on the leader's path waits for it: the event listener only appends
 * to a bounded in-memory queue (the oldest events are dropped beyond
 * `maxQueued`, and the drops logged with their count), and one worker sends
 * from it, retrying each event with capped exponential backoff up to
 * `maxAttempts`, every POST bounded by `timeoutMs`. An event that still
 * fails is logged once and skipped.
 *
 * Delivery is at least once within one leader's reign, not across: a replica
 * starts with the events applied after it became leader and drops what it
 * still held when it stops leading. Events applied while no replica leads (or
 * applied by the old leader and not yet sent when it lost leadership) may
 * therefore be skipped, and entries a new leader applies from the old term
 * may be sent twice; a receiver deduplicates on `seq`.
 */
import type { Logger } from '../../observability/index.js';
import { backoffDelayMs } from '../../common/backoff.js';
import type { RoutingEvent } from '../routing/index.js';
import type { CoordinatorService, RoleChange } from '../service.js';
import { DropOldestQueue } from './bounded-queue.js';
import { postWebhook, type WebhookPost } from './http-post.js';
import { realTimers, sleepOn, systemClock, type Clock, type Timers } from '../../common/clock.js';

export interface WebhookNotifierOptions {
  readonly webhookUrl: string;
  /** One POST gives up after this. */
  readonly timeoutMs: number;
  /** Tries per event before it is skipped. */
  readonly maxAttempts: number;
  readonly clusterId: string;
  /** Events waiting at most (default 10,000); beyond, the oldest are dropped. */
  readonly maxQueued?: number;
  /** The first retry waits about this long (default 200), doubling up to backoffMaxMs (default 10,000). */
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
  /** Drops are logged at most this often, with the count since the last line (default 10,000). */
  readonly dropLogIntervalMs?: number;
  /** Outgoing connections dial from this address (the replica's host). */
  readonly localAddress?: string | undefined;
}

export interface WebhookNotifierModules {
  readonly service: Pick<CoordinatorService, 'onEvent' | 'onRoleChange' | 'status'>;
  readonly logger: Logger;
  /** An event as `GET /events` shows it (the API's eventInfo: the API layer owns that shape). */
  readonly describe: (e: RoutingEvent) => object;
  readonly post?: WebhookPost;
  readonly random?: () => number;
  readonly clock?: Clock;
  /** The waits between retries; default realTimers. */
  readonly timers?: Timers;
}

/** What the notifier has done so far (tests, the debug log). */
export interface WebhookStats {
  readonly queued: number;
  readonly delivered: number;
  /** Skipped after maxAttempts. */
  readonly failed: number;
  /** Dropped from a full queue. */
  readonly dropped: number;
  /** Discarded because this replica stopped leading before sending them. */
  readonly discarded: number;
}

const DEFAULT_MAX_QUEUED = 10_000;
const DEFAULT_BACKOFF_MIN_MS = 200;
const DEFAULT_BACKOFF_MAX_MS = 10_000;
const DEFAULT_DROP_LOG_INTERVAL_MS = 10_000;

export class WebhookNotifier {
  private readonly queue: DropOldestQueue<RoutingEvent>;
  private readonly post: WebhookPost;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private unsubscribeEvents: (() => void) | undefined;
  private readonly unsubscribeRole: () => void;
  /** Aborts the POST or backoff in flight when leadership ends; a new one per reign. */
  private reign: AbortController | undefined;
  private working = false;
  private idle: Promise<void> = Promise.resolve();
  private closed = false;
  private delivered = 0;
  private failed = 0;
  private dropped = 0;
  private discarded = 0;
  private droppedUnlogged = 0;
  private lastDropLogMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly opts: WebhookNotifierOptions,
    private readonly modules: WebhookNotifierModules,
  ) {
    this.queue = new DropOldestQueue(opts.maxQueued ?? DEFAULT_MAX_QUEUED);
    this.post = modules.post ?? postWebhook;
    this.logger = modules.logger.child({ component: 'webhook' });
    this.clock = modules.clock ?? systemClock;
    this.unsubscribeRole = modules.service.onRoleChange((c) => this.roleChanged(c));
    this.roleChanged(modules.service.status());
  }

  stats(): WebhookStats {
    return { queued: this.queue.length, delivered: this.delivered, failed: this.failed, dropped: this.dropped, discarded: this.discarded };
  }

  /** Stops sending (what is queued is discarded) and waits for the POST in flight to end. */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribeRole();
    this.stopLeading();
    await this.idle;
  }

  private roleChanged(change: Pick<RoleChange, 'role'>): void {
    if (this.closed) return;
    if (change.role === 'leader') this.startLeading();
    else this.stopLeading();
  }

  private startLeading(): void {
    if (this.reign !== undefined) return;
    this.reign = new AbortController();
    this.unsubscribeEvents = this.modules.service.onEvent((e) => this.enqueue(e));
    this.logger.info('webhook notifications started', { url: this.opts.webhookUrl });
  }

  private stopLeading(): void {
    if (this.reign === undefined) return;
    this.reign.abort();
    this.reign = undefined;
    this.unsubscribeEvents?.();
    this.unsubscribeEvents = undefined;
    const left = this.queue.clear();
    this.discarded += left;
    this.logDrops(true);
    this.logger.info('webhook notifications stopped', { unsentDiscarded: left });
  }

  /** The event listener: never blocks, never throws into the replica's loop. */
  private enqueue(e: RoutingEvent): void {
    if (this.queue.push(e) > 0) {
      this.dropped++;
      this.droppedUnlogged++;
      this.logDrops(false);
    }
    if (!this.working) {
      this.working = true;
      this.idle = this.work().finally(() => (this.working = false));
    }
  }

  private logDrops(now: boolean): void {
    if (this.droppedUnlogged === 0) return;
    const nowMs = this.clock.nowMs();
    if (!now && nowMs - this.lastDropLogMs < (this.opts.dropLogIntervalMs ?? DEFAULT_DROP_LOG_INTERVAL_MS)) return;
    this.logger.warn('webhook queue full: oldest events dropped unsent', { dropped: this.droppedUnlogged, droppedTotal: this.dropped, maxQueued: this.queue.capacity });
    this.droppedUnlogged = 0;
    this.lastDropLogMs = nowMs;
  }

  private async work(): Promise<void> {
    for (let e = this.queue.shift(); e !== undefined; e = this.queue.shift()) {
      const reign = this.reign;
      if (reign === undefined) return;
      await this.deliver(e, reign.signal);
      this.logDrops(false);
    }
  }

  private async deliver(e: RoutingEvent, signal: AbortSignal): Promise<void> {
    const body = JSON.stringify({ ...this.modules.describe(e), cluster_id: this.opts.clusterId });
    const random = this.modules.random ?? Math.random;
    let lastError = '';
    for (let attempt = 1; attempt <= this.opts.maxAttempts; attempt++) {
      if (signal.aborted) return;
      if (attempt > 1) {
        const delayMs = backoffDelayMs(attempt - 1, this.opts.backoffMinMs ?? DEFAULT_BACKOFF_MIN_MS, this.opts.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS, random);
        await sleepOn(this.modules.timers ?? realTimers, delayMs, signal);
        if (signal.aborted) return;
      }
      try {
        await this.post({ url: this.opts.webhookUrl, body, timeoutMs: this.opts.timeoutMs, signal, localAddress: this.opts.localAddress });
        this.delivered++;
        return;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
        if (signal.aborted) return;
        this.logger.debug('webhook delivery attempt failed', { seq: e.seq, attempt, error: lastError });
      }
    }
    this.failed++;
    this.logger.warn('webhook delivery failed; event skipped', { seq: e.seq, kind: e.kind, attempts: this.opts.maxAttempts, error: lastError });
  }
}
