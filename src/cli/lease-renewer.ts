/**
 * Where a data node sends each lease renewal attempt (README, "Leases").
 * One call is one attempt to one coordinator replica, with no retries of its
 * own: the LeaseHolder times each attempt (a fraction of the lease) and
 * decides whether to try again, so a silent replica costs one short attempt.
 *
 * The replica is, in this order: the leader a NOT_LEADER answer just named;
 * the replica that answered last; then the others in turn, starting after
 * the one that failed last. A follower relays the call to the leader it
 * follows, batched with other nodes' renewals (one leadership check for the
 * batch); the leader grants only after its ReadIndex, exactly as for a direct
 * call. Nodes renew through the followers by preference: after a grant the
 * leader answered itself (the grant names its address), the next renewals go
 * to one of the other replicas, picked by the node's id so the nodes spread
 * evenly, unless that replica failed an attempt lately. The leader then takes
 * a few batched calls a second instead of one call per renewal.
 */
import type http from 'node:http';
import { checkedAnswer, leaseGrantSchema } from '../api/datanode/answers.js';
import { parseAddresses } from '../client/addresses.js';
import { classifyFailure } from '../client/failure.js';
import { agentRequest, type AgentFetchOptions } from '../client/node-fetch.js';
import { toClusterError } from '../client/node-errors.js';
import { authorizationHeaders } from '../client/options.js';
import type { LeaseGrant, LeaseRequest } from '../datanode/contract.js';
import { abortable } from '../datanode/lease-attempt.js';
import type { Logger } from '../observability/index.js';
import { createClientAgent, webOrigin } from '../tls/web.js';

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
  /** How long a request runs at most: a backstop for a caller that passes no signal, and the life of a given-up attempt's request (the keeper's own attempt timeout is far shorter). */
  readonly maxAttemptMs?: number;
  /** Failed attempts are logged at debug level, with the replica and why. */
  readonly logger?: Logger | undefined;
  /** The cluster's internal token, when it has auth. */
  readonly token?: string | undefined;
  /** Connections to share with other renewers of this host (many impersonated nodes in one process); by default its own. */
  readonly agent?: http.Agent | undefined;
}

/** Grants are small; a longer answer is refused. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_ATTEMPT_MS = 5_000;
/** Leaders named by NOT_LEADER answers are added to the configured replicas, up to this many addresses in all. */
const MAX_ADDRESSES = 16;
/** A replica that failed an attempt (no answer, refused) is not picked as the relay for this long. */
const RELAY_AVOID_MS = 5_000;

export class LeaseRenewer {
  private readonly addresses: string[];
  private readonly http: AgentFetchOptions;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly maxAttemptMs: number;
  /** The leader a NOT_LEADER answer named: the next attempt goes there. */
  private redirectTo: string | undefined;
  /** The replica that answered the last renewal. */
  private answered: string | undefined;
  private rotation = 0;
  /** Until when a replica that failed an attempt is not picked as the relay (performance.now()). */
  private readonly avoidUntilMs = new Map<string, number>();
  private readonly logger: Logger | undefined;

  constructor(opts: LeaseRenewerOptions) {
    this.addresses = [...parseAddresses(opts.coordinators)];
    this.maxAttemptMs = opts.maxAttemptMs ?? DEFAULT_MAX_ATTEMPT_MS;
    this.logger = opts.logger;
    // A lease grant counts only from a coordinator certificate (with TLS).
    const agent = opts.agent ?? createClientAgent({ keepAlive: true, maxSockets: 4, expect: ['coordinator'], ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }) });
    this.http = { agent, maxAnswerBytes: MAX_ANSWER_BYTES, timeoutMs: this.maxAttemptMs };
    this.headers = { 'content-type': 'application/json', accept: 'application/json', ...authorizationHeaders(opts.token) };
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
      // A given-up attempt is given up here, but its request runs on (to the backstop) and its answer is
      // dropped: the connection stays open for the next renewal. Destroying it made every late answer cost
      // a new connection on both ends, and a replica already slow past the attempt timeout then slower still.
      const answer = await (signal === undefined ? this.post(address, renewLeaseBody(req)) : abortable(this.post(address, renewLeaseBody(req)), signal));
      const grant = checkedAnswer(leaseGrantSchema, answer, `the coordinators (${operation})`);
      if (!settled) {
        settled = true;
        this.answered = this.relayAfter(address, grant, req.id);
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

  /**
   * `POST /trpc/nodes.renewLease` as tRPC's httpLink sends it (the input as
   * the JSON body), read without the tRPC client: the answer's data, or a
   * rejection carrying the error's `data` (our error body, which
   * classifyFailure and toClusterError read) as a tRPC client error would.
   */
  private async post(address: string, input: unknown): Promise<unknown> {
    const answer = await agentRequest(this.http, new URL(`${webOrigin(address)}/trpc/nodes.renewLease`), {
      method: 'POST',
      headers: this.headers,
      body: JSON.stringify(input),
    });
    let json: unknown;
    try {
      json = JSON.parse(answer.body.toString('utf8'));
    } catch {
      throw new Error(`HTTP ${answer.status} with a body that is not JSON`);
    }
    const result = (json as { result?: { data?: unknown } } | null)?.result;
    if (answer.status === 200 && result !== undefined && 'data' in result) return result.data;
    const data = (json as { error?: { data?: unknown } } | null)?.error?.data;
    throw Object.assign(new Error(`HTTP ${answer.status}`), typeof data === 'object' && data !== null ? { data } : {});
  }

  /**
   * Where the next renewal goes after `address` answered `grant`: the same
   * replica, unless it is the leader itself; then a follower that relays
   * (one of the configured others, by the node's id), if one has not failed lately.
   */
  private relayAfter(address: string, grant: LeaseGrant, nodeId: string): string {
    if (grant.leaderAddress === undefined || grant.leaderAddress !== address) return address;
    const nowMs = performance.now();
    const relays = this.addresses.filter((a) => a !== address && !((this.avoidUntilMs.get(a) ?? -Infinity) > nowMs));
    return relays.length === 0 ? address : relays[spreadOf(nodeId) % relays.length]!;
  }

  private failed(address: string, err: unknown): void {
    if (this.answered === address) this.answered = undefined;
    const failure = classifyFailure(err, undefined);
    this.avoidUntilMs.set(address, performance.now() + RELAY_AVOID_MS);
    if (failure.kind === 'redirect' && failure.leaderAddress !== address) {
      if (!this.addresses.includes(failure.leaderAddress) && this.addresses.length < MAX_ADDRESSES) this.addresses.push(failure.leaderAddress);
      this.redirectTo = failure.leaderAddress;
      return;
    }
    const i = this.addresses.indexOf(address);
    this.rotation = i < 0 ? this.rotation + 1 : i + 1;
  }
}

/** A stable spread of node ids over the relays (FNV-1a). */
function spreadOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
