/**
 * The client of the system simulation: the data nodes' registrations (the
 * control plane's writes, acknowledged or not), linearizable reads that must
 * see every write acknowledged before they began, the data nodes' own writes
 * (NodeWrites) and the operator's actions (AdminWorkload), each drawn from
 * the seed; proposals go to the leader most often, else to any replica.
 */
import type { Command } from '../../../src/coordinator/routing/index.js';
import type { Proc, SystemSimulator } from './system-sim.js';

/** Commands the client keeps waiting at most (it retries nothing: an unanswered one has an unknown outcome). */
const MAX_IN_FLIGHT = 16;
/** The data nodes register this fast at most (a fleet starting). */
const REGISTRATIONS_PER_STEP = 8;
/** Chance per step of a client write to the data nodes (one shard drawn). */
const WRITE_RATE = 0.2;

/** An acknowledged registration: the node must be in every table that applied its index. */
export interface Ack {
  readonly nodeId: string;
  readonly index: number;
}

export class Client {
  readonly acks: Ack[] = [];
  private maxAckedIndex = 0;
  private inFlight = 0;
  /** Data nodes still to register before the client's own writes. */
  initialNodes = 0;
  private nextNode = 0;

  constructor(private readonly sim: SystemSimulator) {}

  /** A registration, and the data node model that answers at its address. */
  register(nodeId: string): Command {
    const address = `${nodeId}.sim:9000`;
    if (!this.sim.dataNodes.has(address)) {
      this.sim.dataNodes.set(address, { id: nodeId, address, downUntilStep: 0, unreachedAtStep: -1 });
      this.sim.leases.add(nodeId, this.sim.profile.skewMs === 0 ? 0 : this.sim.rng.int(2 * this.sim.profile.skewMs + 1) - this.sim.profile.skewMs);
    }
    return { type: 'registerNode', nodeId, address, capacity: 4, version: 'sim', identity: `${nodeId}-identity`, atMs: 0, reason: 'sim client' } as Command;
  }

  /** The client's requests this step; returns how many it made. */
  step(): number {
    const rng = this.sim.rng;
    const targets = this.sim.procs.filter((p) => this.sim.running(p));
    if (targets.length === 0) return 0;
    const before = this.sim.stats.proposals + this.sim.stats.reads;
    const leader = this.sim.leader();
    const pickTarget = (): Proc => (leader && rng.chance(0.7) ? leader : rng.pick(targets));
    // The data nodes register first (through the leader, once there is one); then the client's writes are registrations too.
    const registering = this.nextNode < this.initialNodes;
    const wanted = registering ? (leader === undefined ? 0 : REGISTRATIONS_PER_STEP) : rng.chance(this.sim.profile.proposeRate) ? 1 : 0;
    for (let i = 0; i < wanted && this.inFlight < (registering ? MAX_IN_FLIGHT * 4 : MAX_IN_FLIGHT); i++) {
      const nodeId = `n${this.nextNode++}`;
      this.propose(registering ? leader! : pickTarget(), this.register(nodeId), (ok, index) => {
        if (!ok) return;
        this.acks.push({ nodeId, index });
        this.maxAckedIndex = Math.max(this.maxAckedIndex, index);
      });
    }
    if (rng.chance(this.sim.profile.readRate)) this.read(pickTarget());
    if (rng.chance(WRITE_RATE)) this.sim.writesModel.write(rng.int(this.sim.table.shards.length));
    if (!this.sim.healed && rng.chance(this.sim.profile.adminRate)) this.sim.admin.act();
    return this.sim.stats.proposals + this.sim.stats.reads - before;
  }

  propose(p: Proc, cmd: Command, done: (ok: boolean, index: number) => void): void {
    const replica = p.replica!;
    this.sim.stats.proposals++;
    this.inFlight++;
    const what = `${cmd.type} ${(cmd as { nodeId?: string }).nodeId ?? ''}`;
    replica.propose(cmd).then(
      (out) => {
        this.inFlight--;
        if (out.ok) this.sim.stats.acked++;
        else this.sim.stats.refused++;
        this.sim.note(`${p.id} ${what} -> ${out.ok ? 'ok' : out.code} at ${out.index}`);
        done(out.ok, out.index);
      },
      (e: unknown) => {
        this.inFlight--;
        this.sim.stats.unknown++;
        this.sim.note(`${p.id} ${what} -> ${e instanceof Error ? e.message.slice(0, 60) : String(e)}`);
      },
    );
  }

  read(p: Proc): void {
    const replica = p.replica!;
    this.sim.stats.reads++;
    // Everything acknowledged before the read began must be in what it returns.
    const mustSee = [...this.acks];
    const minIndex = this.maxAckedIndex;
    replica.read('linearizable').then(
      (r) => {
        this.sim.stats.readsServed++;
        if (r.appliedIndex < minIndex) this.sim.fail('linearizable read', `${p.id} answered at index ${r.appliedIndex}, below ${minIndex} acknowledged before the read began`);
        const missing = mustSee.find((a) => r.state.nodes[a.nodeId] === undefined);
        if (missing) this.sim.fail('linearizable read', `${p.id} answered without ${missing.nodeId}, acknowledged at ${missing.index} before the read began`);
      },
      () => undefined,
    );
  }
}
