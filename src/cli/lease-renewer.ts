/**
 * Where a data node sends each lease renewal attempt (README, "Leases").
 * One call is one attempt to one coordinator replica, with no retries of its
 * own: the LeaseKeeper times each attempt (a fraction of the lease) and
 * decides whether to try again, so a silent replica costs one short attempt.
 *
 * The replica is, in this order: the leader a NOT_LEADER answer just named;
 * the replica that answered last (the leader, or a follower that relays the
 * renewal to it when this node cannot reach the leader itself); then the
 * others in turn, starting after the one that failed last. A follower relays
 * (forwards) the call to the leader it follows; the leader grants only after
 * its ReadIndex, exactly as for a direct call.
 */
import { checkedAnswer, leaseGrantSchema } from '../api/datanode/answers.js';
import { parseAddresses } from '../client/addresses.js';
import { classifyFailure } from '../client/failure.js';
import { agentFetch } from '../client/node-fetch.js';
import { toClusterError } from '../client/node-errors.js';
import { authorizationHeaders } from '../client/options.js';
import { ReplicaClients } from '../client/replica-clients.js';
import type { LeaseGrant, LeaseRequest } from '../datanode/contract.js';
import type { Logger } from '../observability/index.js';
import { createClientAgent } from '../tls/web.js';

/** A renewal as `nodes.renewLease` takes it (the optional fields only when the node has them). */
export function renewLeaseBody(req: LeaseRequest) {
  return {
    id: req.id,
    identity: req.identity,
    ...(req.recoveries === undefined ? {} : { recoveries: [...req.recoveries] }),
    ...(req.configVersion === undefined ? {} : { configVersion: req.configVersion }),
    ...(req.load === undefined ? {} : { load: [...req.load] }),
    ...(req.holdings === undefined ? {} : { holdings: [...req.holdings] }),
  };
}

export interface LeaseRenewerOptions {
  /** Coordinator API addresses, `host:port`. */
  readonly coordinators: readonly string[];
  /** Dial from the node's own host (DESIGN.md §1). */
  readonly localAddress?: string | undefined;
  /** A backstop for a caller that passes no signal; the keeper's own attempt timeout is far shorter. */
  readonly maxAttemptMs?: number;
  /** Failed attempts are logged at debug level, with the replica and why. */
  readonly logger?: Logger | undefined;
  /** The cluster's internal token, when it has auth. */
  readonly token?: string | undefined;
}

/** Grants are small; a longer answer is refused. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_ATTEMPT_MS = 5_000;
/** Leaders named by NOT_LEADER answers are added to the configured replicas, up to this many addresses in all. */
const MAX_ADDRESSES = 16;

export class LeaseRenewer {
  private readonly addresses: string[];
  private readonly clients: ReplicaClients;
  private readonly maxAttemptMs: number;
  /** The leader a NOT_LEADER answer named: the next attempt goes there. */
  private redirectTo: string | undefined;
  /** The replica that answered the last renewal. */
  private answered: string | undefined;
  private rotation = 0;
  private readonly logger: Logger | undefined;

  constructor(opts: LeaseRenewerOptions) {
    this.addresses = [...parseAddresses(opts.coordinators)];
    this.maxAttemptMs = opts.maxAttemptMs ?? DEFAULT_MAX_ATTEMPT_MS;
    this.logger = opts.logger;
    // A lease grant counts only from a coordinator certificate (with TLS).
    const agent = createClientAgent({ keepAlive: true, maxSockets: 4, expect: ['coordinator'], ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }) });
    this.clients = new ReplicaClients(agentFetch({ agent, maxAnswerBytes: MAX_ANSWER_BYTES, timeoutMs: this.maxAttemptMs }), authorizationHeaders(opts.token));
  }

  /** The replica the next attempt goes to. */
  next(): string {
    const target = this.redirectTo ?? this.answered ?? this.addresses[this.rotation % this.addresses.length]!;
    this.redirectTo = undefined;
    return target;
  }

  /**
   * One attempt; rejects with the ClusterError the replica (or the leader it
   * relayed to) answered, or UNAVAILABLE / TIMEOUT. When `signal` aborts, the
   * replica counts as failed at that instant, before the caller's next
   * attempt picks its replica.
   */
  async renew(req: LeaseRequest, signal?: AbortSignal): Promise<LeaseGrant> {
    const address = this.next();
    const operation = `nodes.renewLease of ${req.id} via ${address}`;
    let settled = false;
    const settle = (err: unknown): void => {
      if (settled) return;
      settled = true;
      this.failed(address, err);
    };
    const onAbort = (): void => settle(undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const answer = await this.clients
        .get(address)
        .nodes.renewLease.mutate(
          renewLeaseBody(req),
          { signal: signal ?? AbortSignal.timeout(this.maxAttemptMs) },
        );
      const grant = checkedAnswer(leaseGrantSchema, answer, `the coordinators (${operation})`);
      if (!settled) {
        settled = true;
        this.answered = address;
      }
      return grant;
    } catch (err) {
      settle(err);
      const error = toClusterError(err, { operation, timeoutMs: this.maxAttemptMs });
      this.logger?.debug('lease renewal attempt failed', { via: address, code: error.code, reason: error.message });
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private failed(address: string, err: unknown): void {
    if (this.answered === address) this.answered = undefined;
    const failure = classifyFailure(err, undefined);
    if (failure.kind === 'redirect' && failure.leaderAddress !== address) {
      if (!this.addresses.includes(failure.leaderAddress) && this.addresses.length < MAX_ADDRESSES) this.addresses.push(failure.leaderAddress);
      this.redirectTo = failure.leaderAddress;
      return;
    }
    const i = this.addresses.indexOf(address);
    this.rotation = i < 0 ? this.rotation + 1 : i + 1;
  }
}
