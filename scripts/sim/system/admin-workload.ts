/**
 * The operator's side of the workload: drain, evacuate, maintenance on and
 * off, a settings change and a rebalance, each proposed through the replica
 * API the server's routers call (CoordinatorReplica.propose on any running
 * replica, NodeControl.requestRebalance on the leader), interleaved with the
 * faults. The target is most often a current primary, and preferably one the
 * leader cannot reach: a handoff then fails and the move must wait for the
 * node's lease, which is what the fencing rule is for.
 */
import type { Command, RoutingState } from '../../../src/coordinator/routing/index.js';
import type { SeededRng } from '../../../src/raft/index.js';

export interface AdminWorld {
  readonly rng: SeededRng;
  /** The table of the leader as last checked, if there is a leader. */
  leaderTable(): RoutingState | undefined;
  /** Nodes the leader does not reach now. */
  cutFromLeader(): readonly string[];
  /** Proposes through a running replica (the leader most often); the outcome is only traced. */
  propose(cmd: Command, what: string): void;
  /** Asks the leader's placement driver for a rebalance. */
  rebalance(): void;
  note(line: string): void;
}

/** Nodes out of service (draining, evacuating, in maintenance) at most at once, so the shards keep room for their copies. */
const MAX_OUT = 2;

const base = (reason: string): { atMs: number; reason: string } => ({ atMs: 0, reason });

export class AdminWorkload {
  operations = 0;
  private drained = false;

  constructor(private readonly world: AdminWorld) {}

  /**
   * The operator takes `id` out of service (maintenance, evacuation or, once
   * per run, a drain): its shards move away, its primaries first, each only
   * once the node is fenced. Bounded by MAX_OUT nodes out at once.
   */
  takeOutOfService(state: RoutingState, id: string, kind: 'maintenance' | 'evacuate' | 'drain', cutFromLeader: boolean): void {
    const out = Object.values(state.nodes).filter((n) => n.status === 'maintenance' || n.status === 'evacuating' || n.status === 'draining');
    if (out.length >= MAX_OUT || state.nodes[id]?.status !== 'healthy' || (kind === 'drain' && this.drained)) return;
    if (kind === 'drain') this.drained = true;
    const cmd: Command =
      kind === 'maintenance'
        ? { type: 'setMaintenance', ...base('sim operator'), nodeIds: [id], enabled: true }
        : kind === 'evacuate'
          ? { type: 'startEvacuation', ...base('sim operator'), nodeId: id }
          : { type: 'setNodeStatus', ...base('sim operator'), nodeId: id, status: 'draining' };
    this.world.propose(cmd, `${kind} ${id}${cutFromLeader ? ' (cut from the leader)' : ''}`);
  }

  /** An operator reacting to a node the leader lost: takes it out of service (what a drain of a misbehaving node looks like). */
  reactToCut(id: string): void {
    const state = this.world.leaderTable();
    if (state === undefined) return;
    this.operations++;
    this.takeOutOfService(state, id, this.world.rng.pick(['maintenance', 'evacuate', 'drain'] as const), true);
  }

  /** One operator action, drawn from the seed. */
  act(): void {
    const w = this.world;
    const state = w.leaderTable();
    if (state === undefined) return;
    const out = Object.values(state.nodes).filter((n) => n.status === 'maintenance' || n.status === 'evacuating');
    const primaries = [...new Set(state.shards.map((s) => s.primary).filter((p): p is string => p !== null))].sort();
    const cut = w.cutFromLeader().filter((id) => primaries.includes(id));
    const target = (): string | undefined => (cut.length > 0 && w.rng.chance(0.9) ? w.rng.pick(cut) : primaries.length > 0 ? w.rng.pick(primaries) : undefined);
    const kind = w.rng.pick(['maintenance', 'maintenance', 'evacuate', 'drain', 'end', 'end', 'settings', 'rebalance'] as const);
    this.operations++;
    switch (kind) {
      case 'maintenance':
      case 'evacuate':
      case 'drain': {
        const id = target();
        if (id !== undefined) this.takeOutOfService(state, id, kind, cut.includes(id));
        return;
      }
      case 'end': {
        if (out.length === 0) return;
        const n = w.rng.pick(out);
        const cmd: Command = n.status === 'maintenance' ? { type: 'setMaintenance', ...base('sim operator'), nodeIds: [n.id], enabled: false } : { type: 'cancelEvacuation', ...base('sim operator'), nodeId: n.id };
        return w.propose(cmd, `end ${n.status} of ${n.id}`);
      }
      case 'settings': {
        const replaceDelayMs = w.rng.pick([1_000, 3_000, 10_000]);
        return w.propose({ type: 'updateSettings', ...base('sim operator'), expectedVersion: state.config.version, settings: { recovery: { replaceDelayMs } } }, `settings recovery.replaceDelayMs=${replaceDelayMs}`);
      }
      case 'rebalance':
        w.note('operator asks for a rebalance');
        return w.rebalance();
    }
  }
}
