/**
 * The replicated routing table (DESIGN.md §4) as plain data.
 *
 * States are immutable values: `apply` never mutates the state it is given; it
 * returns a new state that shares every untouched part with the old one
 * (copy-on-write by spreading), or the very same object when a command is
 * rejected or changes nothing. That is what makes "a rejected command leaves
 * the state exactly as it was" hold by construction, lets `stateHash` cache per
 * state object, and lets a reader (API, snapshotter) keep a state while apply
 * moves on. Nothing here may be mutated in place.
 */
import type { ClusterSettings } from '../../config/settings.js';
import type { MemberId } from '../../raft/index.js';

/** A data node's id (the cluster file's `nodes[].id`, or `torua node --id`). */
export type NodeId = string;
/** A coordinator replica's id: the Raft core's own. */
export type { MemberId };

/**
 * `suspect` is deliberately absent: it is the leader's own, unconfirmed view
 * and never committed (DESIGN.md §5).
 */
export const NODE_STATUSES = ['unknown', 'healthy', 'unhealthy', 'maintenance', 'evacuating', 'draining', 'restarting', 'left'] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

export interface NodeRecord {
  readonly id: NodeId;
  /** `host:port` of the node's HTTP server. */
  readonly address: string;
  readonly status: NodeStatus;
  /** Most shard copies (primaries + replicas) this node may hold. */
  readonly capacity: number;
  /** The node's software version, as it reported it. */
  readonly version: string;
  /** Placement hints (zone, rack …), replaced as a whole. */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * A token the node keeps in its data directory: a second process claiming a
   * known id with another identity is refused. null for nodes registered by
   * hand without one.
   */
  readonly identity: string | null;
  readonly registeredAtMs: number;
  readonly statusChangedAtMs: number;
  readonly statusReason: string;
  /** Present exactly while the status is `maintenance`. */
  readonly maintenance?: MaintenanceWindow;
  /** Present exactly while the status is `restarting` (a rolling upgrade restarts it). */
  readonly restart?: RestartWindow;
  /** The node's latest evacuation (running while the status is `evacuating`, then kept to show how it ended). */
  readonly evacuation?: Evacuation;
  /**
   * The settings version (`config.version`) this process last said it runs,
   * reported with its lease renewals; absent until it has (a registration
   * starts a new process, so it clears it).
   */
  readonly configVersion?: number;
}

/** An operator's maintenance of a node: its copies move away, it is never declared failed. */
export interface MaintenanceWindow {
  readonly reason: string;
  readonly sinceMs: number;
  /** When it ends by itself (the leader's clock, stamped at the start plus the TTL asked), or null: until turned off. */
  readonly untilMs: number | null;
}

/** A restart during a rolling upgrade: the node is not declared failed until `untilMs` (then it is an ordinary node again). */
export interface RestartWindow {
  readonly sinceMs: number;
  readonly untilMs: number;
  /** The version it is restarted into. */
  readonly version: string;
}

export const UPGRADE_STATES = ['running', 'done', 'failed'] as const;
export type UpgradeState = (typeof UPGRADE_STATES)[number];

/**
 * A rolling upgrade, replicated so that whoever drives it (the CLI, through
 * any leader) carries on from what the table says: data nodes first, in
 * order, then the coordinators (the leader last, after a transfer).
 */
export interface Upgrade {
  /** The version every process should report at the end. */
  readonly to: string;
  readonly reason: string;
  readonly startedAtMs: number;
  /** How long a node may stay `restarting` before it is an ordinary node again (probed, declared failed if down). */
  readonly restartTimeoutMs: number;
  readonly nodes: readonly NodeId[];
  readonly coordinators: readonly MemberId[];
  /** Processes (node or coordinator ids) that run `to` now, in the order they were done. */
  readonly done: readonly string[];
  /** The process being restarted now, or null between two. */
  readonly current: string | null;
  /** The first process that did not come back, and why; the upgrade stops there. */
  readonly failed: { readonly id: string; readonly reason: string } | null;
  readonly state: UpgradeState;
  readonly endedAtMs: number | null;
}

export const EVACUATION_STATES = ['running', 'done', 'cancelled'] as const;
export type EvacuationState = (typeof EVACUATION_STATES)[number];

/**
 * An evacuation's progress, replicated so that a new leader carries on and
 * shows the same. What is left is not stored: it is the copies the node
 * still holds (views.ts), so the progress can never claim done early.
 */
export interface Evacuation {
  readonly reason: string;
  readonly startedAtMs: number;
  /** Copies the node held when it started (it takes no new ones meanwhile). */
  readonly total: number;
  readonly state: EvacuationState;
  /** When it finished or was cancelled; null while running. */
  readonly endedAtMs: number | null;
  /** Why a copy cannot move now (no room, no in-sync copy …), as the leader's last planning round saw it; null when none is stuck. */
  readonly stalledReason: string | null;
  /** Bytes copied into new copies of the shards it holds, as their primaries reported them when each copy joined the in-sync set. */
  readonly bytesCopied: number;
}

/**
 * Derived from the shard's own fields only (see shard-state.ts), so it can
 * never go stale when settings or node statuses change; whether a shard is
 * under-replicated or served by a dead node is a view (views.ts).
 */
export const SHARD_STATES = ['unassigned', 'active', 'recovering', 'unavailable'] as const;
export type ShardState = (typeof SHARD_STATES)[number];

export interface ShardRecord {
  /** 0..N-1; equal to the shard's position in `RoutingState.shards`. */
  readonly id: number;
  readonly primary: NodeId | null;
  /** Copies other than the primary; sorted, distinct, never the primary. */
  readonly replicas: readonly NodeId[];
  /** Copies holding every acknowledged write (the primary always included); sorted. */
  readonly inSync: readonly NodeId[];
  /** Bumped by every change of this record: the compare-and-set token of every shard command. */
  readonly epoch: number;
  readonly state: ShardState;
}

export interface ClusterConfig {
  /** 1 for the settings of the cluster file, +1 per committed change. */
  readonly version: number;
  readonly settings: ClusterSettings;
}

export type MemberRole = 'learner' | 'voter';

/** A coordinator replica's addresses, learned from membership-change entries (or the cluster file). */
export interface MemberRecord {
  readonly id: MemberId;
  readonly host: string;
  readonly apiPort: number;
  readonly peerPort: number;
  readonly role: MemberRole;
}

export const EVENT_KINDS = [
  'node-registered',
  'node-updated',
  'node-labels',
  'node-status',
  'node-evacuation',
  'node-removed',
  'shard-assigned',
  'shard-moved',
  'shard-in-sync',
  'shard-out-of-sync',
  'shard-promoted',
  'settings-updated',
  'upgrade',
  'member-added',
  'member-promoted',
  'member-removed',
  'cluster-restored',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface RoutingEvent {
  /** 1, 2, 3 … across the life of the cluster; `GET /events?since=N` pages on it. */
  readonly seq: number;
  /** Raft index and term of the entry whose apply made this change. */
  readonly index: number;
  readonly term: number;
  /** The leader's clock when it proposed the change (stamped into the command). */
  readonly timeMs: number;
  readonly kind: EventKind;
  readonly node: NodeId | null;
  readonly shard: number | null;
  readonly member: MemberId | null;
  /** What changed, in words. */
  readonly message: string;
  /** Why, as the proposer said. */
  readonly reason: string;
  /** Who asked (token name or certificate subject), when the API checked credentials. */
  readonly by?: string;
}

export interface EventRing {
  /** At most this many events are kept (the oldest are dropped). */
  readonly capacity: number;
  /** The seq the next event gets. */
  readonly nextSeq: number;
  /** Oldest first; seqs consecutive, ending at nextSeq - 1. */
  readonly items: readonly RoutingEvent[];
}

export interface RoutingState {
  readonly clusterId: string;
  /** Keyed by id. Look up with `nodeById` (own properties only: ids like `constructor` are legal). */
  readonly nodes: Readonly<Record<NodeId, NodeRecord>>;
  readonly shards: readonly ShardRecord[];
  readonly config: ClusterConfig;
  readonly members: Readonly<Record<MemberId, MemberRecord>>;
  readonly events: EventRing;
  /**
   * Present from a `torua snapshot restore` until the leader has heard what
   * the nodes hold (restore-commands.ts): while it is, nothing is placed,
   * trimmed or failed over, and no lease is granted, because the table may be
   * older than the copies on the nodes.
   */
  readonly restoring?: RestoreWindow;
  /** The latest rolling upgrade (absent before the first). */
  readonly upgrade?: Upgrade;
}

export interface RestoreWindow {
  /** The Raft index of the cluster the snapshot was taken from. */
  readonly snapshotIndex: number;
  /** The state hash the snapshot file carried. */
  readonly snapshotHash: string;
  /** When the restore tool seeded the new quorum (its clock). */
  readonly sinceMs: number;
}

/** Where in the Raft log a change is applied. */
export interface ApplyMeta {
  readonly index: number;
  readonly term: number;
}

/**
 * Why a command was refused. Kept local until src/errors exists; the API maps
 * them (roughly: INVALID_* 400, UNKNOWN_* 404, STALE_* 409, the rest 409/422).
 */
export type RejectCode =
  | 'INVALID_COMMAND'
  | 'UNSUPPORTED_VERSION'
  | 'UNKNOWN_NODE'
  | 'UNKNOWN_SHARD'
  | 'UNKNOWN_MEMBER'
  | 'STALE_EPOCH'
  | 'STALE_VERSION'
  | 'STALE_STATUS'
  | 'IDENTITY_CONFLICT'
  | 'NO_MAJORITY'
  | 'STORM_GUARD'
  | 'INVALID_TRANSITION'
  | 'NODE_NOT_AVAILABLE'
  | 'NODE_HAS_SHARDS'
  | 'CAPACITY_EXCEEDED'
  | 'SHARD_ASSIGNED'
  | 'SHARD_UNASSIGNED'
  | 'NOT_A_COPY'
  | 'NOT_IN_SYNC'
  | 'NO_PRIMARY'
  | 'INVALID_SETTINGS'
  | 'INVALID_MEMBER'
  | 'WRONG_STATUS'
  | 'TOO_FEW_NODES'
  | 'UPGRADE_RUNNING'
  | 'NO_UPGRADE'
  | 'INTERNAL';

export interface Rejection {
  readonly ok: false;
  readonly code: RejectCode;
  readonly message: string;
  /** For validation errors: the path of the first offending field, e.g. `replicas.1`. */
  readonly field?: string;
}

/** What the proposer gets back. `changed: false`: valid, but the state already was so (idempotent retry). */
export type Applied =
  | { readonly ok: true; readonly changed: boolean; readonly subject: 'node'; readonly node: NodeRecord }
  | { readonly ok: true; readonly changed: boolean; readonly subject: 'nodeRemoved'; readonly node: NodeRecord }
  | { readonly ok: true; readonly changed: boolean; readonly subject: 'nodes'; readonly nodes: readonly NodeRecord[] }
  | { readonly ok: true; readonly changed: boolean; readonly subject: 'shard'; readonly shard: ShardRecord }
  | { readonly ok: true; readonly changed: boolean; readonly subject: 'config'; readonly config: ClusterConfig }
  | { readonly ok: true; readonly changed: boolean; readonly subject: 'upgrade'; readonly upgrade: Upgrade }
  | { readonly ok: true; readonly changed: boolean; readonly subject: 'member'; readonly memberId: MemberId; readonly member: MemberRecord | null };

export type ApplyResult = Applied | Rejection;

export interface ApplyOutput {
  readonly state: RoutingState;
  readonly result: ApplyResult;
}
