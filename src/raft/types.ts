/**
 * Data types of the Raft core. Everything here is plain data: the core never
 * touches I/O, so storage and transport encode these shapes themselves.
 */

/** A coordinator replica's identity (a Raft member; data nodes have a NodeId of the routing table). The empty string means "nobody". */
export type MemberId = string;
export const NONE: MemberId = '';

export enum EntryType {
  /** A command of the application (opaque bytes). */
  Normal = 0,
  /** The empty entry a new leader appends at the start of its term. */
  Noop = 1,
  /** A membership change; `data` is `encodeConfChange(...)`. */
  ConfChange = 2,
}

export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must be on stable storage before any message of the same Ready is sent. */
export interface HardState {
  /** Latest term this replica has seen. Never decreases. */
  readonly term: number;
  /** Candidate voted for in `term`, or NONE. At most one per term. */
  readonly vote: MemberId;
  /** Highest index known committed. Persisting it is an optimisation (replay on restart). */
  readonly commit: number;
}

/** A cluster configuration: voters decide, learners only receive the log. */
export interface ConfState {
  readonly voters: readonly MemberId[];
  readonly learners: readonly MemberId[];
}

export type ConfChange =
  /** Add a non-voting member that receives the log and catches up. */
  | { readonly type: 'addLearner'; readonly node: MemberId; readonly context?: string }
  /** Turn a caught-up learner into a voter. */
  | { readonly type: 'promote'; readonly node: MemberId; readonly context?: string }
  /** Remove a voter or learner. A removed leader steps down once the change commits. */
  | { readonly type: 'remove'; readonly node: MemberId; readonly context?: string };

export interface SnapshotMeta {
  /** Last log index the snapshot covers. */
  readonly index: number;
  /** Term of the entry at `index`. */
  readonly term: number;
  /** The configuration in force at `index`. */
  readonly conf: ConfState;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** The application's state-machine image at `meta.index`. */
  readonly data: Uint8Array;
}

export type RaftRole = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state that the replica logs and reports; not persisted. */
export interface SoftState {
  readonly role: RaftRole;
  readonly leader: MemberId;
  readonly term: number;
  /** Why the last role or leader change happened, in words (for the log). */
  readonly reason: string;
}

/** A completed ReadIndex request: serve it once the applied index reaches `index`. */
export interface ReadState {
  readonly requestId: string;
  readonly index: number;
}

/** A ReadIndex request that will never complete (leader lost, no leader known). */
export interface FailedRead {
  readonly requestId: string;
  readonly reason: string;
}

// ---- messages ------------------------------------------------------------

interface MessageBase {
  readonly from: MemberId;
  readonly to: MemberId;
  /**
   * Sender's term. 0 marks a term-less message (forwarded proposals, reads
   * and transfer requests), which bypasses the term rules.
   */
  readonly term: number;
}

/** RequestVote (and PreVote, which carries the term the sender would campaign in). */
export interface VoteRequest extends MessageBase {
  readonly type: 'vote' | 'preVote';
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** Campaign started by leadership transfer: bypasses the "leader is alive" refusal. */
  readonly transfer: boolean;
}

export interface VoteResponse extends MessageBase {
  readonly type: 'voteResp' | 'preVoteResp';
  readonly reject: boolean;
}

/** AppendEntries. */
export interface AppendRequest extends MessageBase {
  readonly type: 'app';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

export interface AppendResponse extends MessageBase {
  readonly type: 'appResp';
  readonly reject: boolean;
  /** On success: the follower's last index verified by this append. On reject: the rejected prevIndex. */
  readonly index: number;
  /** On reject: largest index ≤ min(prevIndex, lastIndex) whose term ≤ the leader's prevTerm. */
  readonly hintIndex: number;
  /** On reject: the follower's term at hintIndex (0 if unknown). */
  readonly hintTerm: number;
}

export interface HeartbeatRequest extends MessageBase {
  readonly type: 'heartbeat';
  /** min(leader's commit, follower's match): never beyond what the follower holds. */
  readonly commit: number;
  /** ReadIndex round this heartbeat confirms leadership for. */
  readonly readSeq: number;
}

export interface HeartbeatResponse extends MessageBase {
  readonly type: 'heartbeatResp';
  readonly readSeq: number;
}

export interface SnapshotRequest extends MessageBase {
  readonly type: 'snap';
  readonly snapshot: Snapshot;
}

/** Leadership transfer: "campaign now". */
export interface TimeoutNow extends MessageBase {
  readonly type: 'timeoutNow';
}

/** A follower forwarding proposals to the leader (term 0). */
export interface ProposeForward extends MessageBase {
  readonly type: 'prop';
  readonly entries: readonly { readonly data: Uint8Array }[];
}

/** A follower forwarding a ReadIndex request to the leader (term 0). */
export interface ReadIndexRequest extends MessageBase {
  readonly type: 'readIndex';
  readonly requestId: string;
}

export interface ReadIndexResponse extends MessageBase {
  readonly type: 'readIndexResp';
  readonly requestId: string;
  readonly index: number;
  /** The leader could not serve it (not the leader any more, or its read queue is full). */
  readonly reject: boolean;
}

/** A follower forwarding a leadership transfer request (term 0). */
export interface TransferLeaderRequest extends MessageBase {
  readonly type: 'transferLeader';
  readonly target: MemberId;
}

export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | HeartbeatRequest
  | HeartbeatResponse
  | SnapshotRequest
  | TimeoutNow
  | ProposeForward
  | ReadIndexRequest
  | ReadIndexResponse
  | TransferLeaderRequest;

export type MessageType = Message['type'];

/**
 * One batch of work for the replica. The contract, in order:
 *  1. persist `snapshot` (replacing the stored log), then `entries` (an entry
 *     at index i replaces any stored entry at i or after), `hardState` and
 *     `compaction`, in one write — synced when `mustSync`;
 *  2. only then send `messages`;
 *  3. install `snapshot` into the state machine and apply `committedEntries`
 *     in order; serve `readStates` once applied ≥ their index;
 *  4. call `advance()`.
 * No other `ready()` is handed out until `advance()`; `step`, `tick` and
 * `propose` may be called meanwhile and go into the next batch.
 */
export interface Ready {
  /** Set when role or leader changed since the last batch. */
  readonly softState: SoftState | undefined;
  /** Set when term, vote or commit changed since the last batch. */
  readonly hardState: HardState | undefined;
  /** A snapshot received from the leader: persist it and restore the state machine from it. */
  readonly snapshot: Snapshot | undefined;
  /** Log entries to persist. */
  readonly entries: readonly Entry[];
  /** A local snapshot (from `compact`): persist it; stored entries ≤ its index may be deleted. */
  readonly compaction: Snapshot | undefined;
  /** False when only the commit index changed: the write need not be synced. */
  readonly mustSync: boolean;
  /** Send after the write above is durable. */
  readonly messages: readonly Message[];
  /** Committed entries not yet handed out, in index order. */
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
  readonly failedReads: readonly FailedRead[];
}

/** What the replica loads from storage on start. */
export interface InitialState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | undefined;
  /** Entries after the snapshot, contiguous. */
  readonly entries: readonly Entry[];
}

/** Progress of one follower as the leader sees it (for status and tests). */
export interface PeerProgress {
  readonly match: number;
  readonly next: number;
  readonly state: 'probe' | 'replicate' | 'snapshot';
  readonly learner: boolean;
  readonly recentActive: boolean;
}

export interface Status {
  readonly id: MemberId;
  readonly role: RaftRole;
  readonly term: number;
  readonly vote: MemberId;
  readonly leader: MemberId;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly conf: ConfState;
  /** Only on the leader. */
  readonly progress: ReadonlyMap<MemberId, PeerProgress> | undefined;
  readonly leadTransferee: MemberId;
}
