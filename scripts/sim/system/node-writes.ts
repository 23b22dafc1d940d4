/**
 * The data nodes' writes, as a model: a client writes to the node serving a
 * shard (NodeLeases.serves); the primary stores the write, copies it to the
 * in-sync replicas it reaches, and acknowledges it once every copy it
 * counts in sync holds it. A replica it cannot reach is first taken out of
 * the in-sync set through the coordinators (setInSync, relayed to the
 * leader like a renewal), and only the committed answer lets the primary
 * acknowledge without it. Checked after every step: every copy the
 * committed table counts in sync holds every write acknowledged for its
 * shard (a promotion of that copy would otherwise lose them).
 *
 * A copy out of the in-sync set catches up as the real one does: it asks
 * the primary it knows for a recovery; the primary, if it serves the shard
 * and reaches the copy, fills it (the model copies the primary's writes at
 * once: the exchange itself is the data path's, not the control plane's)
 * and, between two writes (the shard takes none meanwhile), asks the
 * coordinators to add it to the in-sync set (setInSync, relayed like a
 * renewal). Until it knows the outcome the shard takes no write: a call
 * that failed without a definite answer may still commit (see unsettled).
 */
import type { RoutingState, SetInSync, ShardRecord } from '../../../src/coordinator/routing/index.js';
import type { SeededRng } from '../../../src/raft/index.js';
import { InSyncRefused, type LeaseNode, type NodeLeases } from './node-leases.js';

export interface WriteWorld {
  readonly nowMs: number;
  readonly rng: SeededRng;
  /** Whether node `a` reaches node `b` for replication now. */
  nodesReach(a: string, b: string): boolean;
  /** Runs `fn` after `ms` of true time (a call on its way between two nodes). */
  later(ms: number, fn: () => void): void;
  hopMs(): number;
  note(line: string): void;
  fail(property: string, detail: string): void;
}

/** A removal whose answer never came is given up after this (the write it held waits unanswered: unknown outcome). */
const REMOVAL_GIVE_UP_MS = 3_000;
/** A copy that asked for a recovery asks again after this if it is still out of the in-sync set. */
const RECOVERY_RETRY_MS = 500;
/** An in-sync join whose answer never came is asked again after this (the node's coordinator call timeout); its shard's writes wait on until the outcome is known. */
const JOIN_GIVE_UP_MS = 5_000;

export class NodeWrites {
  /** Per node and shard, the writes it holds (durable: a crash keeps them). */
  private readonly held = new Map<string, Set<number>>();
  /** Per shard, the writes acknowledged to the client. */
  private readonly acked = new Map<number, number[]>();
  /** Shards with a removal in flight, until when it is waited for. */
  private readonly removing = new Map<number, number>();
  /** Shards whose primary is adding a caught-up copy to the in-sync set, until when it is waited for (the shard takes no write meanwhile). */
  private readonly joining = new Map<number, number>();
  /**
   * Joins whose outcome is unknown (the call failed without a definite
   * answer), by shard, at the epoch they expected: the change may still
   * commit, so the shard takes no write until its primary knows a newer
   * record (then it knows the outcome) or a retry is refused for a reason
   * other than a moved epoch (then the record it expected is current: the
   * join did not happen).
   */
  private readonly unsettled = new Map<number, number>();
  /** Per copy (`node/shard`), when it may ask for a recovery again. */
  private readonly recoveryDue = new Map<string, number>();
  /** Per table, the shards each node holds a copy of out of the in-sync set (one scan per table, shared by the nodes that hold it). */
  private readonly outOfSync = new WeakMap<RoutingState, Map<string, number[]>>();
  /** Per shard, what the last check saw (in-sync set and acknowledged count): unchanged means nothing to check. */
  private readonly checked = new Map<number, string>();
  private nextWrite = 0;
  private reported = 0;
  readonly stats = { writes: 0, acked: 0, removals: 0, recoveries: 0, joins: 0 };

  constructor(
    private readonly world: WriteWorld,
    private readonly leases: NodeLeases,
    /** Planted bugs: a recovery finished without filling the copy; writes resumed after a join of unknown outcome. */
    private readonly planted?: 'join-before-fill' | 'join-unknown-outcome',
  ) {}

  private key(node: string, shard: number): string {
    return `${node}/${shard}`;
  }

  private hold(node: string, shard: number, id: number): void {
    const k = this.key(node, shard);
    let set = this.held.get(k);
    if (set === undefined) this.held.set(k, (set = new Set()));
    set.add(id);
  }

  private holds(node: string, shard: number, id: number): boolean {
    return this.held.get(this.key(node, shard))?.has(id) === true;
  }

  private ack(shard: number, id: number, by: string): void {
    let list = this.acked.get(shard);
    if (list === undefined) this.acked.set(shard, (list = []));
    list.push(id);
    this.stats.acked++;
    this.world.note(`${by} acknowledges write w${id} of shard ${shard}`);
  }

  /** A client write to `shard`, taken by a node that serves it (if any). */
  write(shard: number): void {
    const w = this.world;
    let primary: LeaseNode | undefined;
    for (const n of this.leases.nodes.values()) if (this.leases.serves(n, shard)) primary = n;
    if (primary === undefined) return;
    const p = primary;
    const rec = this.leases.serves(p, shard)!;
    // A primary adding a copy to the in-sync set takes the next write only once it knows the outcome.
    if (this.joinPending(shard, rec)) return;
    const id = ++this.nextWrite;
    this.stats.writes++;
    this.hold(p.id, shard, id);
    const others = rec.inSync.filter((x) => x !== p.id);
    const lagging = others.filter((x) => !w.nodesReach(p.id, x));
    for (const x of others) if (!lagging.includes(x)) this.hold(x, shard, id);
    if (lagging.length === 0) return this.ack(shard, id, p.id);
    if ((this.removing.get(shard) ?? -Infinity) > w.nowMs) return;
    const x = lagging[0]!;
    this.stats.removals++;
    w.note(`${p.id} asks to take ${x} out of the in-sync set of shard ${shard} at epoch ${rec.epoch} (w${id} waits)`);
    this.askInSync(p, rec, x, false, this.removing, REMOVAL_GIVE_UP_MS, () => {
      // The write is acknowledged if the node still serves the shard and every copy it counts in sync holds it.
      const now = this.leases.serves(p, shard);
      if (now !== undefined && now.inSync.every((y) => this.holds(y, shard, id))) this.ack(shard, id, p.id);
    });
  }

  /**
   * The primary `p` asks the coordinators (through the leader, as the API
   * relays it) to put `node` in or out of the in-sync set of `rec`'s shard
   * at the epoch it knows; `pending` holds the shard until the answer (or
   * for `giveUpMs`). A committed answer gives `p` the new record at once
   * (newer than its view until a renewal brings it), then `onCommitted` runs.
   */
  private askInSync(p: LeaseNode, rec: ShardRecord, node: string, inSync: boolean, pending: Map<number, number>, giveUpMs: number, onCommitted: () => void, onFailed: (e: unknown) => void = () => undefined): void {
    const w = this.world;
    const shard = rec.id;
    pending.set(shard, w.nowMs + giveUpMs);
    const cmd: SetInSync = { type: 'setInSync', atMs: 0, reason: `${node} ${inSync ? 'caught up' : 'fell behind'} (sim)`, shardId: shard, expectedEpoch: rec.epoch, nodeId: node, inSync };
    const incarnation = p.incarnation;
    this.leases.viaLeader(
      p,
      (r) => r.setInSync(cmd),
      (epoch) => {
        pending.delete(shard);
        if (p.incarnation !== incarnation) return;
        const known = this.leases.shardOf(p, shard);
        if (known !== undefined && known.epoch < epoch) p.own.set(shard, withInSync(known, node, inSync, epoch));
        w.note(`${p.id} hears ${node} ${inSync ? 'joined' : 'is out of'} the in-sync set of shard ${shard} at epoch ${epoch}`);
        onCommitted();
      },
      (e) => {
        pending.delete(shard);
        if (p.incarnation === incarnation) onFailed(e);
      },
    );
  }

  /**
   * Whether every write `node` stored for `shard` reached every copy it
   * counts in sync (what a handoff answers as `caughtUp`).
   */
  caughtUp(node: LeaseNode, shard: number): boolean {
    const rec = this.leases.shardOf(node, shard);
    if (rec === undefined || rec.primary !== node.id) return false;
    const mine = this.held.get(this.key(node.id, shard));
    if (mine === undefined) return true;
    for (const x of rec.inSync) for (const id of mine) if (!this.holds(x, shard, id)) return false;
    return true;
  }

  /** The shards `n` holds a copy of out of the in-sync set, in what it knows. */
  private lagging(n: LeaseNode): number[] {
    const view = n.view!;
    let byNode = this.outOfSync.get(view);
    if (byNode === undefined) {
      byNode = new Map();
      for (const sh of view.shards) {
        for (const x of sh.replicas) {
          if (sh.inSync.includes(x)) continue;
          const list = byNode.get(x) ?? [];
          list.push(sh.id);
          byNode.set(x, list);
        }
      }
      this.outOfSync.set(view, byNode);
    }
    const list = byNode.get(n.id) ?? [];
    if (n.own.size === 0) return list;
    // Its own in-sync changes are newer than its view for those shards.
    const own = [...n.own.values()].filter((r) => r.replicas.includes(n.id) && !r.inSync.includes(n.id)).map((r) => r.id);
    return [...new Set([...list.filter((s) => !n.own.has(s)), ...own])];
  }

  /** Each copy out of the in-sync set that is due asks the primary it knows for a recovery. */
  catchUp(): void {
    const w = this.world;
    for (const n of this.leases.nodes.values()) {
      if (!n.up || !n.view || n.pausedUntilMs > w.nowMs) continue;
      for (const shard of this.lagging(n)) {
        const k = this.key(n.id, shard);
        if ((this.recoveryDue.get(k) ?? -Infinity) > w.nowMs) continue;
        this.recoveryDue.set(k, w.nowMs + RECOVERY_RETRY_MS);
        const rec = this.leases.shardOf(n, shard);
        if (rec?.primary == null || !w.nodesReach(n.id, rec.primary)) continue;
        this.stats.recoveries++;
        const primary = rec.primary;
        const incarnation = n.incarnation;
        w.later(w.hopMs(), () => {
          const p = this.leases.nodes.get(primary);
          if (p !== undefined && n.incarnation === incarnation) this.finishRecovery(p, n, shard);
        });
      }
    }
  }

  /**
   * On the primary `p`: the recovery `n` asked for reached it. If it still
   * serves the shard and reaches `n`, it fills the copy and, between two
   * writes, asks for `n` to join the in-sync set at the epoch it knows.
   */
  private finishRecovery(p: LeaseNode, n: LeaseNode, shard: number): void {
    const w = this.world;
    const rec = this.leases.serves(p, shard);
    if (rec === undefined || !rec.replicas.includes(n.id) || rec.inSync.includes(n.id) || !w.nodesReach(p.id, n.id)) return;
    if ((this.joining.get(shard) ?? -Infinity) > w.nowMs || (this.removing.get(shard) ?? -Infinity) > w.nowMs) return;
    // A join of unknown outcome is asked again at the epoch it expected (the record is still that one: joinPending would have dropped it).
    const retry = this.joinPending(shard, rec);
    if (this.planted !== 'join-before-fill') for (const id of this.held.get(this.key(p.id, shard)) ?? []) this.hold(n.id, shard, id);
    this.stats.joins++;
    // Unknown until answered: a lost answer leaves it so.
    this.unsettled.set(shard, rec.epoch);
    w.note(`${p.id} filled ${n.id}'s copy of shard ${shard} and asks for it to join the in-sync set at epoch ${rec.epoch}`);
    this.askInSync(
      p,
      rec,
      n.id,
      true,
      this.joining,
      JOIN_GIVE_UP_MS,
      () => this.unsettled.delete(shard),
      (e) => {
        const definite = e instanceof InSyncRefused && (e.code !== 'STALE_EPOCH' || !retry);
        if (definite || this.planted === 'join-unknown-outcome') this.unsettled.delete(shard);
      },
    );
  }

  /**
   * Whether `shard`, as its primary knows it (`rec`), waits on an in-sync
   * join: one in flight, or one of unknown outcome at the epoch `rec` still
   * has (a newer record settles it).
   */
  private joinPending(shard: number, rec: ShardRecord): boolean {
    const until = this.joining.get(shard);
    if (until !== undefined && until > this.world.nowMs) return true;
    // The planted bug takes a join never answered as not done once the call timed out.
    if (until !== undefined && this.planted === 'join-unknown-outcome') this.unsettled.delete(shard);
    const at = this.unsettled.get(shard);
    if (at === undefined) return false;
    if (rec.epoch <= at) return true;
    this.unsettled.delete(shard);
    return false;
  }

  /** Every copy the committed table (`state`, the newest applied anywhere) counts in sync holds every acknowledged write of its shard. */
  check(state: RoutingState, index: number): void {
    for (const sh of state.shards) {
      const acked = this.acked.get(sh.id);
      if (acked === undefined) continue;
      const seen = `${sh.inSync.join(',')}#${acked.length}`;
      if (this.checked.get(sh.id) === seen) continue;
      this.checked.set(sh.id, seen);
      for (const x of sh.inSync) {
        const missing = acked.find((id) => !this.holds(x, sh.id, id));
        if (missing !== undefined && this.reported++ < 3) {
          this.world.fail('no acknowledged write lost', `shard ${sh.id}: ${x} is in sync at index ${index} but lacks w${missing}, acknowledged`);
        }
      }
    }
  }
}

/** `rec` after `node` joined (or left) its in-sync set, at `epoch`. */
function withInSync(rec: ShardRecord, node: string, inSync: boolean, epoch: number): ShardRecord {
  const others = rec.inSync.filter((y) => y !== node);
  return { ...rec, inSync: inSync ? [...others, node].sort() : others, epoch };
}
