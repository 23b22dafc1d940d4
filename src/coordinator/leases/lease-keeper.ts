/**
 * The leader's side of data-node leases: a renewal is answered only after a
 * linearizable read has proven that this replica still leads (ReadIndex), and
 * recorded in the lease table, which the placement driver asks before it
 * gives a shard another primary. Everything here is leader-local and reset
 * on every change of leadership.
 */
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';
import { notLeaderError } from '../not-leader.js';
import { nodeById, shardById, type NodeRecord, type RoutingState } from '../routing/index.js';
import type { CoordinatorService, RoleChange } from '../service.js';
import { LeaseTable } from './lease-table.js';
import { LoadBoard, type LoadReport } from './load-board.js';
import { RecoveryBoard, type RecoveryReport, type ShardRecovery } from './recovery-board.js';
import { RestoreBoard, type HeldCopyReport } from './restore-board.js';
import { systemClock, type Clock } from '../../common/clock.js';

export interface LeaseRenewal {
  readonly id: string;
  readonly identity: string;
  readonly recoveries?: readonly RecoveryReport[] | undefined;
  /** The settings version the node runs (that of the last grant it took); absent from a node that has taken none. */
  readonly configVersion?: number | undefined;
  readonly load?: readonly LoadReport[] | undefined;
  /** The copies the node holds: what a restored cluster takes newer placement from. */
  readonly holdings?: readonly HeldCopyReport[] | undefined;
}

/** A granted renewal: the table it was granted on (at least as new as the request) and the node in it. */
export interface Renewed {
  readonly state: RoutingState;
  readonly node: NodeRecord;
  readonly leaseMs: number;
  readonly leader: string;
  /** The leader's API address, when known: nodes renew through the other replicas (lease-renewer.ts). */
  readonly leaderAddress: string | undefined;
  readonly term: number;
}

export interface LeaseKeeperOptions {
  /** Recovery progress is shown while the node keeps reporting it: this many leases' worth (default 3). */
  readonly recoveryReportMaxAgeLeases?: number;
  /** After a restore, how long (in leases) the leader waits for silent nodes to report what they hold (default 10). */
  readonly restoreWaitLeases?: number;
}

export interface LeaseKeeperModules {
  readonly service: CoordinatorService;
  readonly clock?: Clock;
}

const DEFAULT_RECOVERY_REPORT_MAX_AGE_LEASES = 3;
const DEFAULT_RESTORE_WAIT_LEASES = 10;
/** Bounds the background ackConfig proposals (one per node; nodes beyond wait for a later renewal). */
const MAX_ACKS_IN_FLIGHT = 1_024;

export class LeaseKeeper {
  private readonly table = new LeaseTable();
  private readonly board = new RecoveryBoard();
  /** Per node, the version an ackConfig is being proposed for: one proposal at a time, whatever the renewal rate. */
  private readonly acking = new Map<string, number>();
  private readonly loads = new LoadBoard();
  private readonly restore = new RestoreBoard();
  /** The restore window a finishRestore is being proposed for (one at a time). */
  private finishing: string | null = null;
  private readonly clock: Clock;
  /** The term this replica leads in, or null. */
  private leaderTerm: number | null = null;

  constructor(
    private readonly opts: LeaseKeeperOptions,
    private readonly modules: LeaseKeeperModules,
  ) {
    this.clock = modules.clock ?? systemClock;
    const s = modules.service.status();
    this.roleChanged({ role: s.role, term: s.term, leader: s.leader });
  }

  /** Fed from the replica's role changes (and once at construction). */
  roleChanged(change: RoleChange): void {
    if (change.role === 'leader') {
      if (this.leaderTerm === change.term) return;
      this.leaderTerm = change.term;
      this.table.becameLeader(this.clock.nowMs());
    } else if (this.leaderTerm !== null) {
      this.leaderTerm = null;
      this.table.reset();
    } else {
      return;
    }
    this.board.clear();
    this.loads.clear();
    this.restore.clear();
  }

  /**
   * NOT_LEADER on a follower (the API relays the call). NOT_FOUND for a
   * node the table does not hold or that has left, CONFLICT for another
   * process claiming the id.
   */
  async renew(req: LeaseRenewal): Promise<Renewed> {
    const [answer] = await this.renewMany([req]);
    if (answer instanceof Error) throw answer;
    return answer!;
  }

  /**
   * Renewals relayed together by a follower (or one taken directly): ONE
   * leadership check for all of them, each answered on its own (a grant, or
   * the error renew would throw for it). The batch as a whole fails only
   * with NOT_LEADER (or what the ReadIndex round fails with). Every grant is
   * recorded from when the batch arrived here, which is after each node sent.
   */
  async renewMany(reqs: readonly LeaseRenewal[]): Promise<(Renewed | Error)[]> {
    // Before anything else: the node counts its lease from before it sent, the leader from here.
    const receivedAtMs = this.clock.nowMs();
    const service = this.modules.service;
    const before = service.status();
    if (before.role !== 'leader') throw notLeaderError(before, 'lease renewals', before.leader ? service.apiAddressOf(before.leader) : undefined);
    // Counted as grants while they are checked: a demotion decided during the read waits for the leases they may become.
    const staleLeaseMs = (await service.read('stale')).state.config.settings.health.leaseMs;
    const renewing = reqs.map((req) => this.table.renewing(req.id, receivedAtMs, staleLeaseMs));
    try {
      const read = await service.read('linearizable');
      const after = service.status();
      if (after.role !== 'leader' || after.term !== before.term) {
        throw notLeaderError(after, 'lease renewals', after.leader ? service.apiAddressOf(after.leader) : undefined);
      }
      const leader = { id: after.id, term: after.term, address: service.apiAddressOf(after.id) };
      return reqs.map((req) => {
        try {
          return this.grantOn(read.state, leader, req, receivedAtMs);
        } catch (e) {
          return e instanceof Error ? e : new Error(String(e));
        }
      });
    } finally {
      for (const r of renewing) r.done();
    }
  }

  /** One renewal's answer on a table read after this replica confirmed it leads. */
  private grantOn(state: RoutingState, leader: { readonly id: string; readonly term: number; readonly address: string | undefined }, req: LeaseRenewal, receivedAtMs: number): Renewed {
    const node = checkedNode(state, req);
    if (state.restoring !== undefined) throw this.heldForRestore(state, req);
    // A node that left (drained to the end) is told so with an empty grant and
    // no lease: that is what a draining node waits for before it exits.
    if (node.status === 'left') return { state, node, leaseMs: 0, leader: leader.id, leaderAddress: leader.address, term: leader.term };
    const pending = this.table.pendingDemotions(
      req.id,
      (shard) => shardById(state, shard)?.epoch,
      (shard) => shardById(state, shard)?.primary,
    );
    if (pending.length > 0) {
      throw new ClusterError(
        { code: ClusterErrorCode.Unavailable, reason: 'DEMOTION_PENDING', retryAfterMs: 100 },
        `node ${req.id} is being replaced as primary of shard ${pending.join(', ')}: no lease until that step is committed or refused`,
      );
    }
    const leaseMs = state.config.settings.health.leaseMs;
    const nowMs = this.clock.nowMs();
    this.table.grant(req.id, receivedAtMs, leaseMs);
    this.board.record(req.id, req.recoveries ?? [], nowMs);
    this.recordConfigVersion(node, req.configVersion);
    this.loads.record(req.id, req.load, nowMs);
    return { state, node, leaseMs, leader: leader.id, leaderAddress: leader.address, term: leader.term };
  }

  /**
   * The node runs another settings version than the table shows: the table
   * is told, in the background (the grant does not wait for it). At most one
   * proposal per node is in flight; a failed one is retried by a later renewal.
   */
  private recordConfigVersion(node: NodeRecord, version: number | undefined): void {
    if (version === undefined || version === node.configVersion || this.acking.get(node.id) === version) return;
    if (this.acking.size >= MAX_ACKS_IN_FLIGHT && !this.acking.has(node.id)) return;
    this.acking.set(node.id, version);
    const command = { type: 'ackConfig' as const, atMs: this.clock.nowMs(), reason: 'reported with a lease renewal', nodeId: node.id, version };
    void this.modules.service
      .propose(command)
      .catch(() => undefined)
      .finally(() => {
        if (this.acking.get(node.id) === version) this.acking.delete(node.id);
      });
  }

  /**
   * While the cluster recovers from a restore no lease is granted (a node
   * would act on a table that may be older than its copies): the node's
   * holdings are recorded, and once every node reported (or the wait is over)
   * the leader commits the end of the window with the shards taken from them.
   */
  private heldForRestore(state: RoutingState, req: LeaseRenewal): ClusterError {
    const window = state.restoring!;
    const now = this.clock.nowMs();
    this.restore.record(req.id, req.holdings ?? [], now);
    const waitMs = (this.opts.restoreWaitLeases ?? DEFAULT_RESTORE_WAIT_LEASES) * state.config.settings.health.leaseMs;
    if (this.finishing === null && this.restore.ready(state, now, waitMs)) {
      this.finishing = window.snapshotHash;
      const missing = this.restore.missing(state);
      const reason = missing.length === 0 ? 'every node reported what it holds' : `nodes ${missing.join(', ')} did not report within ${waitMs} ms`;
      const command = { type: 'finishRestore' as const, atMs: now, reason, snapshotHash: window.snapshotHash, shards: this.restore.plan(state) };
      void this.modules.service
        .propose(command)
        .catch(() => undefined)
        .finally(() => {
          this.finishing = null;
        });
    }
    const missing = this.restore.missing(state);
    const waiting = missing.length === 0 ? 'taking the placement from the nodes' : `waiting for ${missing.length} node(s) to report what they hold (${missing.slice(0, 5).join(', ')})`;
    return new ClusterError(
      { code: ClusterErrorCode.Unavailable, reason: 'RESTORING', retryAfterMs: 200 },
      `the cluster is recovering from a restored snapshot: no lease until the leader has heard the nodes; ${waiting}`,
    );
  }

  /** See LeaseTable.markDemoting (the placement driver's fencer calls it when a lease ran out). */
  markDemoting(nodeId: string, shard: number, epoch: number): void {
    this.table.markDemoting(nodeId, shard, epoch);
  }

  /** See LeaseTable.releaseDemoting. */
  releaseDemoting(nodeId: string, shard: number, epoch: number): void {
    this.table.releaseDemoting(nodeId, shard, epoch);
  }

  /** See LeaseTable.fencedAtMs; `leaseMs` is the current setting. */
  fencedAtMs(nodeId: string, leaseMs: number): number {
    return this.table.fencedAtMs(nodeId, leaseMs);
  }

  /** See LeaseTable.renewedAtMs: the health monitor counts a renewal as the node's answer. */
  renewedAtMs(nodeId: string): number | undefined {
    return this.table.renewedAtMs(nodeId);
  }

  /** The load the nodes reported with their renewals (fresh reports only); empty on followers. */
  loadBoard(state: RoutingState): { board: LoadBoard; nowMs: number; maxAgeMs: number } {
    const maxAgeMs = (this.opts.recoveryReportMaxAgeLeases ?? DEFAULT_RECOVERY_REPORT_MAX_AGE_LEASES) * state.config.settings.health.leaseMs;
    return { board: this.loads, nowMs: this.clock.nowMs(), maxAgeMs };
  }

  /** A recovering copy's progress as its node last reported it; null on followers. */
  recoveryOf(state: RoutingState, shardId: number): ShardRecovery | null {
    const maxAgeMs = (this.opts.recoveryReportMaxAgeLeases ?? DEFAULT_RECOVERY_REPORT_MAX_AGE_LEASES) * state.config.settings.health.leaseMs;
    return this.board.recoveryOf(state, shardId, this.clock.nowMs(), maxAgeMs);
  }
}

function checkedNode(state: RoutingState, req: LeaseRenewal): NodeRecord {
  const node = nodeById(state, req.id);
  if (node === undefined) {
    throw new ClusterError({ code: ClusterErrorCode.NotFound, resource: 'node', id: req.id }, `no node ${req.id}: register it first`);
  }
  // A node that left comes back under any identity, by registering again; only its own process hears that it left.
  if (node.status === 'left' && node.identity !== req.identity) {
    throw new ClusterError({ code: ClusterErrorCode.NotFound, resource: 'node', id: req.id }, `node ${req.id} left the cluster: register again`);
  }
  if (node.identity !== req.identity) {
    const why = node.identity === null ? 'was registered without an identity: register it again' : 'is registered by another process (identity differs)';
    throw new ClusterError({ code: ClusterErrorCode.Conflict, reason: 'IDENTITY_CONFLICT' }, `node ${req.id} ${why}`);
  }
  return node;
}
