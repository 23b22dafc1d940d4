/**
 * The data nodes' side of the leases, as a model: each node renews through
 * any replica it reaches (a follower relays to its leader, as the API does),
 * counts its lease from when it *sent* the renewal (the contract), and
 * serves writes for the shards its last granted table makes it primary of
 * while the lease runs on its own clock. Checked after every step: at most
 * one node serves writes for a shard at any instant of simulated time.
 */
import type { LeaseRenewal, Renewed } from '../../../src/coordinator/leases/index.js';
import type { RoutingState, SetInSync, ShardRecord } from '../../../src/coordinator/routing/index.js';
import type { SeededRng } from '../../../src/raft/index.js';

/** What the lease model needs of the world. */
export interface LeaseWorld {
  readonly nowMs: number;
  readonly rng: SeededRng;
  /** The replicas by id, each with a way to run `fn` after `ms` of its time, and its lease keeper while it runs. */
  replica(id: string): SimReplicaCalls | undefined;
  /** The replica ids, and the one believed to lead (if any). */
  readonly replicaIds: readonly string[];
  leaderId(): string | undefined;
  /** Whether `node` and `replica` reach each other now; whether two replicas do. */
  nodeReaches(node: string, replica: string): boolean;
  replicasReach(a: string, b: string): boolean;
  /** Runs `fn` after `ms` of true time (an answer on its way back to a node). */
  later(ms: number, fn: () => void): void;
  hopMs(): number;
  note(line: string): void;
  fail(property: string, detail: string): void;
}

/** What a data node asks of a replica (through the leader, as the API relays it). */
export interface SimReplicaCalls {
  after(ms: number, fn: () => void): void;
  renew(req: LeaseRenewal): Promise<Renewed>;
  /** The in-sync change a primary asks for, as the API carries it out; resolves with the shard's new epoch, rejects with InSyncRefused when the applied command was refused. */
  setInSync(cmd: SetInSync): Promise<number>;
}

/** An in-sync change the table refused when it applied it (a definite outcome: nothing changed); any other failure leaves the outcome unknown. */
export class InSyncRefused extends Error {
  constructor(readonly code: string) {
    super(`setInSync refused: ${code}`);
  }
}

export interface LeaseNode {
  readonly id: string;
  /** This node's clock runs this far from true time. */
  readonly skewMs: number;
  up: boolean;
  incarnation: number;
  leaseUntilMs: number;
  view: RoutingState | undefined;
  nextRenewMs: number;
  attempt: number;
  /** A stopped process (a long GC pause): it sends nothing and handles what arrives only when it resumes. */
  pausedUntilMs: number;
  /** Its renewals are lost on the way out (a broken outbound path), while probes of it may still answer. */
  mutedUntilMs: number;
  /** Shards it handed off, at the epoch of the handoff: it serves none of them until it learns a newer epoch. */
  readonly handedOff: Map<number, number>;
  /** Shard records its own in-sync changes committed, newer than its view (dropped once a view catches up). */
  readonly own: Map<number, ShardRecord>;
}

export class NodeLeases {
  readonly nodes = new Map<string, LeaseNode>();
  granted = 0;
  /** Steps at which some shard had two writers (bounded report). */
  private reported = 0;

  constructor(
    private readonly world: LeaseWorld,
    /** Planted bug: the lease counted from the answer's arrival instead of from sending. */
    private readonly fromReceipt: boolean,
    /** Extra delay of some answers (a slow path back). */
    private readonly slowAnswerMs: number,
  ) {}

  add(id: string, skewMs: number): void {
    if (!this.nodes.has(id)) this.nodes.set(id, { id, skewMs, up: true, incarnation: 0, leaseUntilMs: -Infinity, view: undefined, nextRenewMs: 0, attempt: 0, pausedUntilMs: 0, mutedUntilMs: 0, handedOff: new Map(), own: new Map() });
  }

  /** A crash: the lease and the view are gone with the process. */
  down(id: string): void {
    const n = this.nodes.get(id);
    if (!n) return;
    n.up = false;
    n.incarnation++;
    n.leaseUntilMs = -Infinity;
    n.view = undefined;
    n.handedOff.clear();
    n.own.clear();
  }

  /** A handoff reached `id`: it stops serving `shard` until it learns an epoch above `epoch`. */
  handoff(id: string, shard: number, epoch: number): void {
    this.nodes.get(id)?.handedOff.set(shard, epoch);
  }

  /** The shard as the node knows it: its last granted table, or a newer record its own in-sync change committed. */
  shardOf(n: LeaseNode, shard: number): ShardRecord | undefined {
    const fromView = n.view?.shards[shard];
    const own = n.own.get(shard);
    return own !== undefined && (fromView === undefined || own.epoch > fromView.epoch) ? own : fromView;
  }

  /** Whether `n` takes writes for `shard` now: up, running, its lease valid on its clock, primary in what it knows, not handed off. */
  serves(n: LeaseNode, shard: number): ShardRecord | undefined {
    if (!n.up || !n.view || n.pausedUntilMs > this.world.nowMs || this.world.nowMs + n.skewMs >= n.leaseUntilMs) return undefined;
    const rec = this.shardOf(n, shard);
    if (rec === undefined || rec.primary !== n.id) return undefined;
    const handed = n.handedOff.get(shard);
    return handed !== undefined && rec.epoch <= handed ? undefined : rec;
  }

  pause(id: string, untilMs: number): void {
    const n = this.nodes.get(id);
    if (n) n.pausedUntilMs = untilMs;
  }

  mute(id: string, untilMs: number): void {
    const n = this.nodes.get(id);
    if (n) n.mutedUntilMs = untilMs;
  }

  paused(id: string): boolean {
    return (this.nodes.get(id)?.pausedUntilMs ?? 0) > this.world.nowMs;
  }

  /** Everything ends its pause (healing). */
  resumeAll(): void {
    for (const n of this.nodes.values()) (n.pausedUntilMs = 0), (n.mutedUntilMs = 0);
  }

  up(id: string): void {
    const n = this.nodes.get(id);
    if (n && !n.up) (n.up = true), (n.nextRenewMs = 0);
  }

  /** Starts the renewals that are due. */
  step(leaseMs: number): void {
    for (const n of this.nodes.values()) {
      if (!n.up || n.pausedUntilMs > this.world.nowMs) continue;
      const local = this.world.nowMs + n.skewMs;
      if (local < n.nextRenewMs) continue;
      n.nextRenewMs = local + Math.max(50, Math.floor(leaseMs / 3));
      this.renew(n);
    }
  }

  private renew(n: LeaseNode): void {
    const w = this.world;
    const sentLocal = w.nowMs + n.skewMs;
    const attempt = ++n.attempt;
    const incarnation = n.incarnation;
    if (n.mutedUntilMs > w.nowMs) return;
    const req: LeaseRenewal = { id: n.id, identity: `${n.id}-identity` };
    this.viaLeader(n, (r) => r.renew(req), (r) => {
      if (n.incarnation !== incarnation || n.attempt !== attempt) return;
      this.granted++;
      if (r.leaseMs <= 0) return;
      const from = this.fromReceipt ? w.nowMs + n.skewMs : sentLocal;
      n.leaseUntilMs = Math.max(n.leaseUntilMs, from + r.leaseMs);
      if (!n.view || r.state !== n.view) n.view = r.state;
      for (const [shard, rec] of n.own) if ((r.state.shards[shard]?.epoch ?? 0) >= rec.epoch) n.own.delete(shard);
    });
  }

  /**
   * A call from node `n` to the replicas: sent to one it reaches (the leader
   * most often), relayed by a follower to its leader, answered back the same
   * way; `onAnswer` runs on the node when the answer arrives (never if the
   * call or its answer is lost, or the node restarted meanwhile).
   */
  viaLeader<T>(n: LeaseNode, call: (r: SimReplicaCalls) => Promise<T>, onAnswer: (answer: T) => void, onError: (e: unknown) => void = () => undefined): void {
    const w = this.world;
    const incarnation = n.incarnation;
    const targets = w.replicaIds.filter((r) => w.nodeReaches(n.id, r));
    if (targets.length === 0) return;
    const leader = w.leaderId();
    const target = leader !== undefined && targets.includes(leader) && w.rng.chance(0.7) ? leader : w.rng.pick(targets);
    const first = w.replica(target);
    if (!first) return;
    const back = (deliver: () => void): void => {
      const hop = w.hopMs() + (w.rng.chance(0.1) ? w.rng.int(this.slowAnswerMs + 1) : 0);
      const arrive = (): void => {
        // A paused node finds the answer in its socket when it resumes.
        if (n.pausedUntilMs > w.nowMs) return void w.later(n.pausedUntilMs - w.nowMs, arrive);
        if (!n.up || n.incarnation !== incarnation) return;
        deliver();
      };
      w.later(hop, () => {
        // Sent before a cut or a pause, the answer is already on its way; after a cut it is lost.
        if (w.nodeReaches(n.id, target) || n.pausedUntilMs > w.nowMs) arrive();
      });
    };
    first.after(w.hopMs(), () => {
      const via = w.leaderId();
      const run = (r: SimReplicaCalls | undefined, relayed: boolean): void => {
        if (!r) return;
        call(r).then(
          (a) => (!relayed || w.replicasReach(via!, target)) && back(() => onAnswer(a)),
          (e: unknown) => (!relayed || w.replicasReach(via!, target)) && back(() => onError(e)),
        );
      };
      if (via === target) return run(w.replica(target), false);
      // A follower relays the call to its leader.
      if (via === undefined || !w.replicasReach(target, via)) return;
      w.replica(via)?.after(w.hopMs(), () => run(w.replica(via), true));
    });
  }

  /** At most one node serves writes for a shard now (lease running on its clock, primary in its last granted table); returns the shards served. */
  check(): number {
    const writers = new Map<number, string[]>();
    for (const n of this.nodes.values()) {
      // A paused process serves nothing (serves says so); it is judged again the moment it resumes.
      if (!n.view || !n.up || n.pausedUntilMs > this.world.nowMs || this.world.nowMs + n.skewMs >= n.leaseUntilMs) continue;
      for (const s of n.view.shards) {
        // Only a shard it leads in its view (or in a newer record of its own) can be served: the rest need no closer look.
        if ((s.primary !== n.id && !n.own.has(s.id)) || this.serves(n, s.id) === undefined) continue;
        const list = writers.get(s.id) ?? [];
        list.push(n.id);
        writers.set(s.id, list);
      }
    }
    for (const [shard, ids] of writers) {
      if (ids.length > 1 && this.reported++ < 3) this.world.fail('one writer per shard', `shard ${shard} is served for writes by ${ids.join(' and ')} at once`);
    }
    return writers.size;
  }
}
