/**
 * The wire between data nodes and coordinators, and between data nodes
 * (DESIGN.md §6), as plain types. Both sides build on these: the data node
 * engine (src/datanode) calls the coordinators and its peers through the
 * `CoordinatorLink` and `PeerLink` ports, which the API layer implements
 * over HTTP; the coordinator's routers (src/api/coordinator) answer with
 * these shapes. Values cross JSON as base64 strings (`ValueB64`).
 *
 * The rules the shapes serve:
 * - A node takes reads and writes for a shard only as its primary, at the
 *   epoch the routing table gives it, under a valid lease (`LeaseGrant`).
 * - The lease runs from the moment the node *sent* the renewal, so the node's
 *   view of it ends no later than the leader's record of it.
 * - The primary numbers each write of a shard (`seq`, 1, 2, 3 … per shard,
 *   continued by a promoted replica) and a replica applies a batch only if it
 *   continues its own sequence exactly (`firstSeq === lastSeq + 1`, or a
 *   retransmission of what it has); anything else is RESYNC.
 * - A replica follows one primary; when the table names another, the replica
 *   re-copies the shard before it is in sync again.
 */
/**
 * A node's status in the routing table (the coordinator's NodeStatus; the
 * API layer's assignment of one to the other fails to compile if they drift).
 */
export type NodeStatus = 'unknown' | 'healthy' | 'unhealthy' | 'maintenance' | 'evacuating' | 'draining' | 'restarting' | 'left';

/** A value as base64 (standard alphabet, padded). */
export type ValueB64 = string;

/** One shard as the routing table holds it, for a node that holds a copy of it. */
export interface ShardAssignment {
  readonly id: number;
  readonly epoch: number;
  readonly primary: string | null;
  /** Copies other than the primary. */
  readonly replicas: readonly string[];
  /** Copies holding every acknowledged write (the primary included). */
  readonly inSync: readonly string[];
}

/** What a node sends to renew its lease; the leader answers with a `LeaseGrant`. */
export interface LeaseRequest {
  readonly id: string;
  /** The token kept in the node's data directory (see `register`). */
  readonly identity: string;
  /** Recoveries running on this node, for `/shards` to show progress. */
  readonly recoveries?: readonly RecoveryProgress[];
  /** The settings version this node runs: that of the last grant it took (absent before the first). */
  readonly configVersion?: number;
  /** What it served per shard over its sliding window (load-meter.ts), for load-based placement; omitted by older nodes. */
  readonly load?: readonly ShardLoad[];
  /** Every copy the node holds (sent with every renewal: cheap, and what a restored cluster waits for). */
  readonly holdings?: readonly HeldCopy[];
}

/**
 * A copy a node holds, as it knows it: what a coordinator restored from an
 * older snapshot takes the newer placement from (src/coordinator/leases/restore-board.ts).
 */
export interface HeldCopy {
  readonly shard: number;
  readonly epoch: number;
  readonly lastSeq: number;
  /** The primary at `epoch` as this node last knew it (itself while it is primary), or the one whose history it holds. */
  readonly primary: string | null;
  /** The copy holds every write acknowledged at `epoch`: in the table's in-sync set, not recovering. */
  readonly inSync: boolean;
}

export interface ShardLoad {
  readonly shard: number;
  readonly readsPerS: number;
  readonly writesPerS: number;
  /** Value bytes read and written per second. */
  readonly bytesPerS: number;
}

export interface RecoveryProgress {
  readonly shard: number;
  readonly copiedKeys: number;
  /** Keys in the primary's snapshot, when known. */
  readonly totalKeys: number | null;
}

/**
 * The leader's answer to a renewal. Refused (no grant) when the node is not
 * in the table (NOT_FOUND), claims another identity (CONFLICT), or the
 * replica is not the leader (forwarded; NO_LEADER / NO_QUORUM when none).
 * Granted only after the leader has confirmed its leadership with a quorum
 * (ReadIndex), so the assignments in it are at least as new as any write
 * committed before the request was sent.
 */
export interface LeaseGrant {
  /** The lease is valid for this long, counted from when the node sent the request. */
  readonly leaseMs: number;
  readonly leader: string;
  /** The leader's API address (`host:port`): the node renews through the other replicas, which relay in batches. */
  readonly leaderAddress?: string;
  readonly term: number;
  /** The node's status in the table (`draining`: its copies are being moved away; `left`: none remain). */
  readonly status: NodeStatus;
  /** The cluster's shard count (keys map to shards by `shardForKey(key, shardCount)`). */
  readonly shardCount: number;
  readonly maxValueBytes: number;
  /**
   * How long a primary waits for an in-sync replica's acknowledgement before
   * taking it out of the in-sync set (the cluster's `replication.ackTimeoutMs`);
   * absent from a coordinator that predates it (the node's own option holds).
   */
  readonly replicaAckTimeoutMs?: number;
  /**
   * The cluster settings version the grant's settings (`leaseMs`,
   * `maxValueBytes`, `replicaAckTimeoutMs`) come from; the node runs it once it took the grant and
   * says so in its next renewal. Absent from a coordinator that predates it.
   */
  readonly configVersion?: number;
  /**
   * The table's epoch of every shard, by id: a node deletes a copy the grant
   * does not list only when the table's epoch of that shard is newer than the
   * copy's (a table restored from an older snapshot never makes it drop newer
   * data). Sent when the renewal's `holdings` name a copy the grant does not
   * list, or are absent; left out otherwise (10 KB a grant at 4,096 shards,
   * and the node needs none: every copy it reported is listed).
   */
  readonly shardEpochs?: readonly number[];
  /** Every shard this node is primary or replica of. */
  readonly shards: readonly ShardAssignment[];
  /** `host:port` of every node named in `shards`. */
  readonly addresses: Readonly<Record<string, string>>;
}

export interface RegisterRequest {
  readonly id: string;
  /** `host:port` of the node's HTTP server. */
  readonly address: string;
  readonly capacity: number;
  readonly version: string;
  readonly identity: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** A primary asks the cluster to add a recovered replica to the in-sync set, or to take a lagging one out. */
export interface SetInSyncRequest {
  readonly shard: number;
  readonly node: string;
  readonly inSync: boolean;
  /** The epoch the primary holds; the change is refused (STALE_EPOCH) if the shard moved on. */
  readonly expectedEpoch: number;
  readonly reason: string;
  /** A replica joining after a recovery: the bytes of keys and values the primary sent it (an evacuation's progress counts them). */
  readonly copiedBytes?: number;
}

/** The data node's view of the coordinators (implemented over the cluster client; follows the leader). */
export interface CoordinatorLink {
  /** Resolves once the registration is committed. CONFLICT: the id is known with another identity. */
  register(req: RegisterRequest, signal?: AbortSignal): Promise<void>;
  renewLease(req: LeaseRequest, signal?: AbortSignal): Promise<LeaseGrant>;
  /** Resolves with the shard's new epoch once committed; STALE_EPOCH when it moved on. */
  setInSync(req: SetInSyncRequest, signal?: AbortSignal): Promise<{ readonly epoch: number }>;
  /** Asks the cluster to move this node's copies away (status `draining`). */
  drain(id: string, reason: string, signal?: AbortSignal): Promise<void>;
}

/** One write as the primary numbered it. `value: null` is a delete. */
export interface ReplicatedOp {
  readonly seq: number;
  readonly key: string;
  readonly value: ValueB64 | null;
}

/** Primary → replica: the next writes of a shard, in seq order, contiguous. */
export interface ReplicationBatch {
  readonly shard: number;
  readonly epoch: number;
  /** The sender, which must be the shard's primary at `epoch`. */
  readonly primary: string;
  /** `ops[0].seq`; ops are contiguous from it. */
  readonly firstSeq: number;
  readonly ops: readonly ReplicatedOp[];
}

/**
 * Refusals of a batch travel as ClusterErrors: STALE_EPOCH (the replica knows
 * a newer epoch, or the sender's is older: the primary refreshes and retries),
 * NOT_PRIMARY (the sender is not the primary the replica follows),
 * CONFLICT with reason `RESYNC` (a gap or another primary's history: the
 * replica must re-copy; an in-sync one is taken out of the in-sync set first).
 */
export interface ReplicationAck {
  /** The replica has stored (synced) every op up to this seq. */
  readonly ackedSeq: number;
}

/** Replica → primary: start copying. The primary adds the replica to its live stream from `snapshotSeq + 1` on. */
export interface RecoveryBeginRequest {
  readonly shard: number;
  readonly epoch: number;
  readonly replica: string;
  /**
   * A catch-up: the replica keeps its data, which is whole up to this seq of
   * the history of `followed`, and wants only what came after. Refused
   * (RESYNC) when the primary cannot vouch for that; the replica then wipes
   * its copy and asks again without it.
   */
  readonly fromSeq?: number;
  readonly followed?: string | null;
}

export interface RecoveryBegin {
  readonly recoveryId: string;
  /** The copy holds every write up to this seq; the live stream sends the rest. */
  readonly snapshotSeq: number;
  readonly totalKeys: number;
  /** A catch-up: no pages to read; the live stream brings everything after `snapshotSeq`. */
  readonly catchUp?: boolean;
}

export interface RecoveryPageRequest {
  readonly recoveryId: string;
  /** Most entries in one page; the primary also caps a page's bytes. */
  readonly limit: number;
}

export interface RecoveryPage {
  readonly entries: readonly { readonly key: string; readonly value: ValueB64 }[];
  /** No more pages: the copy is complete. */
  readonly done: boolean;
}

export interface RecoveryFinishRequest {
  readonly recoveryId: string;
  /** The replica's last stored seq (snapshot plus live stream). */
  readonly lastSeq: number;
}

/** Resolves once the replica is committed as in sync (the shard's new epoch). */
export interface RecoveryFinish {
  readonly epoch: number;
}

/** A node's view of its peers (implemented over the node tRPC router). */
export interface PeerLink {
  replicate(address: string, batch: ReplicationBatch, signal?: AbortSignal): Promise<ReplicationAck>;
  beginRecovery(address: string, req: RecoveryBeginRequest, signal?: AbortSignal): Promise<RecoveryBegin>;
  recoveryPage(address: string, req: RecoveryPageRequest, signal?: AbortSignal): Promise<RecoveryPage>;
  finishRecovery(address: string, req: RecoveryFinishRequest, signal?: AbortSignal): Promise<RecoveryFinish>;
}

/**
 * Coordinator leader → primary: stop serving this shard at this epoch (a
 * planned handover). The node finishes the write batch in flight, refuses
 * everything after (UNAVAILABLE, retryable) until it learns a newer epoch, and
 * answers with its last seq.
 */
export interface HandoffRequest {
  readonly shard: number;
  readonly epoch: number;
}

export interface HandoffDone {
  readonly lastSeq: number;
  /**
   * Every write this primary stored reached every in-sync replica: the new
   * primary holds all of it, so the old one may stay an in-sync replica
   * (false after a batch failed to replicate: it may hold writes others lack).
   */
  readonly caughtUp: boolean;
}

export type ShardRole = 'primary' | 'replica' | 'recovering' | 'fenced';

/** One shard copy as a node's `GET /info` shows it. */
export interface ShardCopyInfo {
  readonly id: number;
  readonly role: ShardRole;
  readonly epoch: number;
  /** The last seq this copy has stored. */
  readonly seq: number;
  readonly keys: number;
  /** For a recovering copy. */
  readonly recovery: RecoveryProgress | null;
}

export interface LeaseInfo {
  readonly valid: boolean;
  /** 0 when expired or never granted. */
  readonly remainingMs: number;
  readonly leader: string | null;
  readonly term: number | null;
}

/** `GET /info` of a data node. */
export interface DataNodeInfo {
  readonly id: string;
  readonly address: string;
  readonly version: string;
  readonly status: NodeStatus | null;
  readonly registered: boolean;
  readonly uptimeMs: number;
  readonly lease: LeaseInfo;
  readonly shards: readonly ShardCopyInfo[];
}

/** `GET /health` of a data node: answered locally, always 200 while the process serves. */
export interface DataNodeHealth {
  readonly status: 'ok' | 'starting' | 'draining';
  readonly id: string;
  readonly lease: LeaseInfo;
}

/**
 * What a data node offers its API layer (src/api/datanode wraps it). Data
 * calls take the shard epoch the caller routed by (optional: a caller
 * without one is served at the node's current epoch) and throw ClusterError:
 * STALE_EPOCH (409), NOT_PRIMARY (421), NO_LEASE (503), UNAVAILABLE (503:
 * recovering, handing over, replication failed), PAYLOAD_TOO_LARGE (413),
 * INVALID_INPUT (400). A key is 1–1024 bytes of well-formed UTF-8.
 */
export interface DataNodeService {
  health(): DataNodeHealth;
  info(): DataNodeInfo;
  /** null: no such key. */
  get(key: string, epoch?: number): Promise<Uint8Array | null>;
  put(key: string, value: Uint8Array, epoch?: number): Promise<void>;
  delete(key: string, epoch?: number): Promise<void>;
  replicate(batch: ReplicationBatch): Promise<ReplicationAck>;
  beginRecovery(req: RecoveryBeginRequest): Promise<RecoveryBegin>;
  recoveryPage(req: RecoveryPageRequest): Promise<RecoveryPage>;
  finishRecovery(req: RecoveryFinishRequest): Promise<RecoveryFinish>;
  handoff(req: HandoffRequest): Promise<HandoffDone>;
}
