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
 */
import type { RoutingState, SetInSync } from '../../../src/coordinator/routing/index.js';
import type { SeededRng } from '../../../src/raft/index.js';
import type { LeaseNode, NodeLeases } from './node-leases.js';

export interface WriteWorld {
  readonly nowMs: number;
  readonly rng: SeededRng;
  /** Whether node `a` reaches node `b` for replication now. */
  nodesReach(a: string, b: string): boolean;
  note(line: string): void;
  fail(property: string, detail: string): void;
}

/** A removal whose answer never came is given up after this (the write it held waits unanswered: unknown outcome). */
const REMOVAL_GIVE_UP_MS = 3_000;

export class NodeWrites {
  /** Per node and shard, the writes it holds (durable: a crash keeps them). */
  private readonly held = new Map<string, Set<number>>();
  /** Per shard, the writes acknowledged to the client. */
  private readonly acked = new Map<number, number[]>();
  /** Shards with a removal in flight, until when it is waited for. */
  private readonly removing = new Map<number, number>();
  /** Per shard, what the last check saw (in-sync set and acknowledged count): unchanged means nothing to check. */
  private readonly checked = new Map<number, string>();
  private nextWrite = 0;
  private reported = 0;
  readonly stats = { writes: 0, acked: 0, removals: 0 };

  constructor(
    private readonly world: WriteWorld,
    private readonly leases: NodeLeases,
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
    const id = ++this.nextWrite;
    this.stats.writes++;
    this.hold(p.id, shard, id);
    const others = rec.inSync.filter((x) => x !== p.id);
    const lagging = others.filter((x) => !w.nodesReach(p.id, x));
    for (const x of others) if (!lagging.includes(x)) this.hold(x, shard, id);
    if (lagging.length === 0) return this.ack(shard, id, p.id);
    if ((this.removing.get(shard) ?? -Infinity) > w.nowMs) return;
    this.removing.set(shard, w.nowMs + REMOVAL_GIVE_UP_MS);
    const x = lagging[0]!;
    this.stats.removals++;
    w.note(`${p.id} asks to take ${x} out of the in-sync set of shard ${shard} at epoch ${rec.epoch} (w${id} waits)`);
    const cmd: SetInSync = { type: 'setInSync', atMs: 0, reason: `${x} fell behind (sim)`, shardId: shard, expectedEpoch: rec.epoch, nodeId: x, inSync: false };
    const incarnation = p.incarnation;
    this.leases.viaLeader(
      p,
      (r) => r.setInSync(cmd),
      (epoch) => {
        this.removing.delete(shard);
        if (p.incarnation !== incarnation) return;
        const known = this.leases.shardOf(p, shard);
        if (known !== undefined && known.epoch < epoch) p.own.set(shard, { ...known, inSync: known.inSync.filter((y) => y !== x), epoch });
        w.note(`${p.id} hears ${x} is out of the in-sync set of shard ${shard} at epoch ${epoch}`);
        // The write is acknowledged if the node still serves the shard and every copy it counts in sync holds it.
        const now = this.leases.serves(p, shard);
        if (now !== undefined && now.inSync.every((y) => this.holds(y, shard, id))) this.ack(shard, id, p.id);
      },
      () => this.removing.delete(shard),
    );
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
