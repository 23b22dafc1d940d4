/** What every procedure of the coordinator API sees: the replica it serves, its leader duties, and how to reach the leader. */
import type { NodeControl } from '../../coordinator/node-control.js';
import type { CoordinatorService } from '../../coordinator/service.js';
import type { RenewalRelay } from './renewal-relay.js';
import type { Logger, Metrics } from '../../observability/index.js';
import type { CertIdentity } from '../../tls/identity.js';
import type { RequestAuth } from '../auth/index.js';

/**
 * Set by a replica that forwards a leader-only call, naming itself. A call
 * that carries it is never forwarded again: two replicas that each believe
 * the other leads answer NOT_LEADER instead of bouncing the call for ever.
 */
export const FORWARDED_BY_HEADER = 'x-torua-forwarded-by';

export interface ForwardingOptions {
  /** false: leader-only calls on a follower answer NOT_LEADER (421) with the leader's address instead. */
  readonly enabled: boolean;
  /** Longer than the leader's own membership-change timeout, so the leader's answer wins over ours. */
  readonly timeoutMs: number;
  /** Outgoing connections dial from this address (DESIGN.md §1: a process dials from its own host). */
  readonly localAddress?: string | undefined;
}

export interface ApiContext {
  readonly service: CoordinatorService;
  /** The leader's duties towards data nodes: leases, recovery progress, forced removal. */
  readonly nodeControl: NodeControl;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The replica that forwarded this call (the FORWARDED_BY_HEADER), if one did. */
  readonly forwardedBy?: string | undefined;
  /**
   * The caller's certificate as the TLS handshake verified it (or, on a call
   * a coordinator forwarded, the certificate of the original caller):
   * `{id, role, clusterId, subject}`. Undefined without TLS. What a call may
   * do by identity is decided from this, never from the input.
   */
  readonly peerCertificate?: CertIdentity | undefined;
  /** Who called, as the server checked it; absent for in-process callers (no checks). */
  readonly auth?: RequestAuth | undefined;
  /** Absent: no forwarding (what `createCaller` in tests gets unless it asks). */
  readonly forwarding?: ForwardingOptions | undefined;
  /** A follower relays lease renewals to the leader in batches through it; absent: each is forwarded alone. */
  readonly renewalRelay?: RenewalRelay | undefined;
}
