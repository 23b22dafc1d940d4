/**
 * The link that sends queries and mutations: each attempt to one replica
 * (the leader when known; see LeaderTracker for reads and writes without
 * one) through that replica's own httpLink, with a timeout, and on a failure that
 * another replica may not repeat (NOT_LEADER, NO_LEADER, UNAVAILABLE, a
 * refused or reset connection, no answer in time) the next attempt goes to
 * the replica the leader tracker picks, after a capped, jittered backoff.
 * The number of attempts is bounded; the last failure ends the call with a
 * ClusterUnavailableError that lists what each replica said.
 *
 * A mutation retried after a timeout or a reset may have taken effect the
 * first time: the routing table's commands are idempotent (register,
 * set labels) or compare-and-set (epochs, config versions), so a repeat
 * is harmless or refused, never applied twice with a different meaning.
 */
import { httpLink, TRPCClientError, type OperationLink, type OperationResultEnvelope, type TRPCLink } from '@trpc/client';
import { observable, type Observable } from '@trpc/server/observable';
import type { AppRouter } from '../api/coordinator/index.js';
import { parseAddress } from './addresses.js';
import { deadlineSignal } from '../common/deadline-signal.js';
import { backoffDelayMs, sleep } from '../common/backoff.js';
import { ClusterUnavailableError, type FailedAttempt } from './errors.js';
import { classifyFailure } from './failure.js';
import type { LeaderTracker } from './leader-tracker.js';
import { callSettings, type ClientSettings } from './options.js';

/** How often a write waiting for a leader looks for one, at least (the backoff's base, if longer). */
const MIN_LEADER_POLL_MS = 25;

type Envelope = OperationResultEnvelope<unknown, TRPCClientError<AppRouter>>;
type Operation = Parameters<OperationLink<AppRouter>>[0]['op'];

/** The first value an operation's observable sends (a query or mutation sends one). */
function firstValue<T>(source: Observable<T, unknown>): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false;
    const subscription = source.subscribe({
      next(value) {
        if (done) return;
        done = true;
        resolve(value);
      },
      error(err) {
        done = true;
        reject(err);
      },
      complete() {
        if (!done) reject(new Error('the link completed without a result'));
      },
    });
    if (done) subscription.unsubscribe();
  });
}

const terminal = (): never => {
  throw new Error('torua client: the failover link is a terminating link');
};

export function failoverLink(tracker: LeaderTracker, settings: ClientSettings): TRPCLink<AppRouter> {
  return (runtime) => {
    const links = new Map<string, OperationLink<AppRouter>>();
    const linkFor = (address: string): OperationLink<AppRouter> => {
      let link = links.get(address);
      if (link === undefined) {
        const url = `${parseAddress(address).origin}/trpc`;
        const headers = settings.headers;
        link = httpLink<AppRouter>(settings.fetch === undefined ? { url, headers } : { url, fetch: settings.fetch, headers })(runtime);
        links.set(address, link);
      }
      return link;
    };

    async function send(op: Operation, signal: AbortSignal): Promise<Envelope> {
      const { timeoutMs, maxRetries } = callSettings(settings, op.context);
      const started = performance.now();
      const failures: FailedAttempt[] = [];
      let lastError: unknown;
      let wait = false;
      for (let attempt = 0; attempt <= maxRetries; attempt++) {
        if (wait) {
          const delayMs = backoffDelayMs(failures.length, settings.backoffMs, settings.maxBackoffMs, settings.random);
          // Reads need no leader; a write goes as soon as one is found.
          if (op.type === 'mutation') await tracker.awaitLeader(delayMs, Math.max(MIN_LEADER_POLL_MS, settings.backoffMs), signal);
          else await sleep(delayMs, signal);
        }
        const address = op.type === 'mutation' ? await tracker.writeTarget() : await tracker.target();
        if (address === undefined) {
          // Replicas answer but none leads: a write sent now would wait out a proposal timeout somewhere.
          failures.push({ address: 'cluster', code: 'NO_LEADER', description: tracker.noLeaderReason() });
          wait = true;
          continue;
        }
        const attemptAbort = deadlineSignal(timeoutMs, [signal]);
        try {
          const envelope = (await firstValue(linkFor(address)({ op: { ...op, signal: attemptAbort.signal }, next: terminal }))) as Envelope;
          tracker.succeeded(address);
          return envelope;
        } catch (err) {
          if (signal.aborted) throw err;
          const failure = classifyFailure(err, attemptAbort.timedOut() ? { timeoutMs } : undefined);
          if (failure.kind === 'final') throw err;
          lastError = err;
          failures.push({ address, code: failure.code, description: failure.description });
          if (failure.kind === 'redirect') {
            tracker.redirected(failure.leaderAddress, failure.leader);
            // Straight to the leader named; a second redirect in a row (two replicas naming each other) waits.
            wait = failures.length >= 2 && failures.at(-2)?.code === 'NOT_LEADER';
          } else {
            tracker.failed(address);
            wait = true;
          }
        } finally {
          attemptAbort.dispose();
        }
      }
      throw new ClusterUnavailableError(op.path, failures, performance.now() - started, lastError);
    }

    return ({ op }) =>
      observable<Envelope, TRPCClientError<AppRouter>>((observer) => {
        const controller = new AbortController();
        const onAbort = () => controller.abort(op.signal?.reason);
        if (op.signal?.aborted) onAbort();
        else op.signal?.addEventListener('abort', onAbort, { once: true });
        send(op, controller.signal).then(
          (envelope) => {
            observer.next(envelope);
            observer.complete();
          },
          (err: unknown) => observer.error(TRPCClientError.from(err as Error)),
        );
        return () => {
          op.signal?.removeEventListener('abort', onAbort);
          controller.abort();
        };
      });
  };
}
