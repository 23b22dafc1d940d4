/**
 * A follower's relay of lease renewals to the leader, in batches: the
 * renewals that reach this replica while the batches before them are on their
 * way (at most two at a time) go to the leader as ONE `nodes.renewLeases` call, which the leader answers after ONE
 * leadership check, with an answer per renewal. Each node gets the answer the
 * leader gave its own renewal, in tRPC's single-call shape (a grant, or the
 * leader's error as it would have answered it directly).
 *
 * Why: a thousand nodes renew four times a second; answered one HTTP call
 * each, the leader's CPU went to HTTP. Relayed, the leader takes at most
 * about two calls per follower per round trip whatever the fleet's size (a
 * quiet cluster's renewals go at once, a busy one's wait for the batch before
 * and share the next), and the followers take the nodes' HTTP (nodes prefer
 * them: lease-renewer.ts).
 *
 * Safety is the leader's, as for a direct call (README, "Leases"): the
 * leader's ReadIndex for the batch begins after the batch arrived, so after
 * every node in it sent; the node counts its lease from its own send. A relay
 * only adds delay, which shortens the lease the node gets, never lengthens it.
 */
import { z } from 'zod';
import { notLeaderError } from '../../coordinator/not-leader.js';
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';
import { forwardToLeader, leaderAnswer } from './forward.js';

export interface RenewalRelayOptions {
  /** This replica's id (the leader sees it as the forwarder: a relayed batch is never relayed again). */
  readonly from: () => string;
  /** Outgoing connections dial from this address (DESIGN.md §1). */
  readonly localAddress?: string | undefined;
  /**
   * Renewals arriving within this long of the first waiting one share its
   * batch (default 10 ms). The leader's cost is mostly per batch (an HTTP
   * call, a leadership check, socket writes), not per renewal: with 300
   * nodes, sending each turn's renewals at once cost the leader 10 % of a
   * core, a 10 ms window 4 %; the node's lease, counted from its own send,
   * is 10 ms shorter at most.
   */
  readonly windowMs?: number;
  /** At most this many renewals per batch (default 256; the leader takes at most MAX_RELAYED_RENEWALS). */
  readonly maxBatch?: number;
  /** At most this many batches in flight per leader; renewals arriving meanwhile wait and go together (default 2). */
  readonly maxInFlight?: number;
  /** Renewals waiting beyond this are refused at once with OVERLOADED (default 4,096). */
  readonly maxWaiting?: number;
  /** A batch the leader has not answered by then fails (default 1 s: a node gives up on an attempt sooner). */
  readonly timeoutMs?: number;
}

/** What the leader accepts in one batch (the router's input bound). */
export const MAX_RELAYED_RENEWALS = 256;
export const RENEW_LEASES_PATH = 'nodes.renewLeases';

const DEFAULT_WINDOW_MS = 10;
const DEFAULT_MAX_IN_FLIGHT = 2;
const DEFAULT_MAX_WAITING = 4_096;
const DEFAULT_TIMEOUT_MS = 1_000;

interface Waiting {
  readonly input: unknown;
  /** The Authorization the node sent (with auth, the cluster's internal token): the batch carries it to the leader. */
  readonly authorization: string | undefined;
  resolve(data: unknown): void;
  reject(err: unknown): void;
}

/** The renewals waiting for one leader (by id and address). */
interface Lane {
  readonly leader: string;
  readonly address: string;
  waiting: Waiting[];
  inFlight: number;
  /** The batches on their way: refused at once when another replica becomes leader (leaderChanged). */
  readonly sent: Set<readonly Waiting[]>;
  timer: NodeJS.Timeout | undefined;
}

const batchAnswerSchema = z.object({ answers: z.array(z.unknown()) });

export class RenewalRelay {
  private readonly lanes = new Map<string, Lane>();
  private waitingCount = 0;
  private closed = false;

  constructor(private readonly opts: RenewalRelayOptions) {}

  /** The leader's answer to this renewal (its grant's data), or the leader's error for it; UNAVAILABLE / TIMEOUT / OVERLOADED from the relay. */
  relay(input: unknown, leader: string, address: string, authorization?: string): Promise<unknown> {
    if (this.closed) return Promise.reject(new ClusterError({ code: ClusterErrorCode.Unavailable, reason: 'replica stopping', retryAfterMs: 100 }, 'this replica is stopping'));
    if (this.waitingCount >= (this.opts.maxWaiting ?? DEFAULT_MAX_WAITING)) {
      return Promise.reject(new ClusterError({ code: ClusterErrorCode.Overloaded, retryAfterMs: 50 }, `replica busy: ${this.waitingCount} lease renewals waiting to be relayed; retry shortly`));
    }
    const key = `${leader}@${address}`;
    let lane = this.lanes.get(key);
    if (lane === undefined) this.lanes.set(key, (lane = { leader, address, waiting: [], inFlight: 0, sent: new Set(), timer: undefined }));
    const done = new Promise<unknown>((resolve, reject) => lane.waiting.push({ input, authorization, resolve, reject }));
    this.waitingCount++;
    this.schedule(key, lane);
    return done;
  }

  /** Fails what waits; batches in flight end with their own answers or timeouts. */
  close(): void {
    this.closed = true;
    for (const lane of this.lanes.values()) {
      clearTimeout(lane.timer);
      this.fail(lane.waiting.splice(0), new ClusterError({ code: ClusterErrorCode.Unavailable, reason: 'replica stopping', retryAfterMs: 100 }, 'this replica is stopping'));
    }
    this.lanes.clear();
  }

  /**
   * Another replica leads now (`address`: its API address, when known): the
   * renewals waiting for or relayed to an earlier leader are refused at once
   * with NOT_LEADER naming the new one, so each node's next attempt goes
   * straight to it instead of waiting out its attempt (a paused or cut-off
   * old leader never answers the batch). Refusing grants nothing, so no lease
   * rule is touched; a late answer of the old leader to such a batch is
   * dropped (each renewal is answered once).
   */
  leaderChanged(leader: string, term: number, address: string | undefined): void {
    if (leader === '') return;
    for (const [key, lane] of this.lanes) {
      if (lane.leader === leader) continue;
      const moved = notLeaderError({ leader, term }, 'lease renewals', address);
      clearTimeout(lane.timer);
      lane.timer = undefined;
      const waiting = lane.waiting.splice(0);
      this.waitingCount -= waiting.length;
      this.fail(waiting, moved);
      for (const batch of lane.sent) this.fail(batch, moved);
      lane.sent.clear();
      if (lane.inFlight === 0) this.lanes.delete(key);
    }
  }

  private schedule(key: string, lane: Lane): void {
    if (lane.waiting.length === 0) {
      if (lane.inFlight === 0) this.lanes.delete(key);
      return;
    }
    if (lane.inFlight >= (this.opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT)) return;
    if (lane.waiting.length >= (this.opts.maxBatch ?? MAX_RELAYED_RENEWALS)) {
      clearTimeout(lane.timer);
      lane.timer = undefined;
      this.send(key, lane);
      return;
    }
    lane.timer ??= setTimeout(() => {
      lane.timer = undefined;
      this.send(key, lane);
    }, this.opts.windowMs ?? DEFAULT_WINDOW_MS);
  }

  private send(key: string, lane: Lane): void {
    const batch = lane.waiting.splice(0, Math.min(this.opts.maxBatch ?? MAX_RELAYED_RENEWALS, MAX_RELAYED_RENEWALS));
    this.waitingCount -= batch.length;
    if (batch.length === 0) return;
    lane.inFlight++;
    lane.sent.add(batch);
    const call = { leader: lane.leader, address: lane.address, path: RENEW_LEASES_PATH };
    forwardToLeader({
      ...call,
      input: { renewals: batch.map((w) => w.input) },
      // Every renewal here passed the internal check, so they all carry the same credential.
      ...(batch[0]!.authorization === undefined ? {} : { authorization: batch[0]!.authorization }),
      from: this.opts.from(),
      timeoutMs: this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      localAddress: this.opts.localAddress,
    })
      .then(
        (data) => {
          const parsed = batchAnswerSchema.safeParse(data);
          if (!parsed.success || parsed.data.answers.length !== batch.length) {
            throw new ClusterError(
              { code: ClusterErrorCode.Unavailable, reason: `leader ${lane.leader} (${lane.address}) answered a relayed batch unexpectedly`, retryAfterMs: 100 },
              `the leader ${lane.leader} answered ${batch.length} relayed lease renewals with something else`,
            );
          }
          parsed.data.answers.forEach((answer, i) => {
            const w = batch[i]!;
            try {
              w.resolve(leaderAnswer(call, answer, 'answered a relayed renewal with an unexpected body'));
            } catch (e) {
              w.reject(e);
            }
          });
        },
      )
      .catch((e: unknown) => this.fail(batch, e))
      .finally(() => {
        lane.sent.delete(batch);
        lane.inFlight--;
        if (!this.closed) this.schedule(key, lane);
      });
  }

  private fail(batch: readonly Waiting[], err: unknown): void {
    for (const w of batch) w.reject(err);
  }
}
