/**
 * What a coordinator replica offers the API layer. The replica
 * (replica.ts) implements it over Raft; router tests use a small in-memory
 * implementation. Every method answers from this replica: followers reach the
 * leader through Raft itself (forwarded proposals and ReadIndex), so any
 * replica can serve any request; only membership changes must run on the
 * leader, and they throw ClusterError NOT_LEADER (with `leader`) elsewhere.
 */
import type { Command, RoutingEvent, RoutingState } from './routing/index.js';

export type ReplicaRole = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** This replica's own view, answered locally (GET /health). */
export interface ReplicaStatus {
  readonly id: string;
  readonly clusterId: string;
  readonly role: ReplicaRole;
  /** '' when no leader is known. */
  readonly leader: string;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  /** Digest of the routing table at appliedIndex (equal on every replica at equal applied index). */
  readonly stateHash: string;
  readonly startedAtMs: number;
  readonly version: string;
}

/** One coordinator replica as /cluster/members shows it. */
export interface MemberStatus {
  readonly id: string;
  readonly host: string;
  readonly apiPort: number;
  readonly peerPort: number;
  readonly role: 'leader' | 'follower' | 'learner' | 'unknown';
  /** What this replica knows of the member; the leader knows match index and last contact. */
  readonly term: number | null;
  readonly commitIndex: number | null;
  readonly appliedIndex: number | null;
  readonly matchIndex: number | null;
  /** Milliseconds since the leader last heard from it; null when unknown. */
  readonly lastContactMs: number | null;
  readonly stateHash: string | null;
}

export type Consistency = 'linearizable' | 'stale';

/** A read of the routing table, and how old it may be. */
export interface StateRead {
  readonly state: RoutingState;
  readonly appliedIndex: number;
  readonly consistency: Consistency;
  /** For stale reads: milliseconds since this replica last heard from a leader (0 on the leader). */
  readonly stalenessMs: number;
}

/** The outcome of a committed command, as apply computed it. */
export type CommandOutcome =
  | { readonly ok: true; readonly index: number; readonly changed: boolean }
  | { readonly ok: false; readonly index: number; readonly code: string; readonly message: string };

export interface NewMember {
  readonly id: string;
  readonly host: string;
  readonly apiPort: number;
  readonly peerPort: number;
}

/** This replica's role as the Ready loop last reported it. */
export interface RoleChange {
  readonly role: ReplicaRole;
  readonly term: number;
  /** '' when no leader is known. */
  readonly leader: string;
}

export interface CoordinatorService {
  status(): ReplicaStatus;
  /**
   * The routing table. Linearizable reads go through ReadIndex (no log
   * write); with no quorum they fail with NO_QUORUM/TIMEOUT, never answer stale.
   */
  read(consistency: Consistency, timeoutMs?: number): Promise<StateRead>;
  /**
   * Proposes a command (the leader stamps `atMs`) and resolves once it is
   * committed and applied here, with apply's outcome. Throws ClusterError
   * NO_LEADER / TIMEOUT (outcome unknown) / OVERLOADED / INVALID_INPUT.
   */
  propose(command: Command, timeoutMs?: number): Promise<CommandOutcome>;
  members(): Promise<MemberStatus[]>;
  /** Leader only (NOT_LEADER elsewhere): add as learner, promote once caught up. */
  /** `by`: who asked (the events of the change name them). */
  addMember(member: NewMember, timeoutMs?: number, by?: string): Promise<void>;
  removeMember(id: string, timeoutMs?: number, by?: string): Promise<void>;
  /** Resolves once `to` leads, or fails with TIMEOUT. */
  transferLeadership(to: string, timeoutMs?: number): Promise<void>;
  /** Events with seq > since, from the applied table. */
  events(since: number): RoutingEvent[];
  /** Calls `listener` for every event applied from now on; returns the unsubscribe function. */
  onEvent(listener: (e: RoutingEvent) => void): () => void;
  /**
   * Calls `listener` whenever this replica's role, term or known leader
   * changes (leader-only duties start and stop on it); returns the unsubscribe
   * function. Called synchronously from the replica's loop: a listener must
   * not block.
   */
  onRoleChange(listener: (change: RoleChange) => void): () => void;
  /** The API address of a replica by id (for forwarding and NOT_LEADER hints). */
  apiAddressOf(id: string): string | undefined;
}
