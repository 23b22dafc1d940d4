/**
 * The checks of the system simulation, run after every step: one leader per
 * term; tables agree at equal applied index; no acknowledged write lost; a
 * failure declared only with a majority's confirmation recorded, and never
 * while a majority reaches the node; a shard that had an in-sync copy keeps
 * one; the table's invariants; and, after healing, convergence and every
 * shard served by a primary with all its copies in sync.
 */
import type { CoordinatorReplica } from '../../../src/coordinator/replica.js';
import type { CoordinatorService } from '../../../src/coordinator/service.js';
import { invariantViolations, stateHash, type Command, type RoutingState } from '../../../src/coordinator/routing/index.js';
import { STEP_MS } from './profile.js';
import type { SystemSimulator } from './system-sim.js';

/**
 * A failure declared for a node that a majority of the replicas reached
 * (the node up, their links to it whole) for this long before is wrong: it
 * spans the detection (threshold × probe interval, a probe timeout, a
 * confirmation round) with room to spare.
 */
const REACHED_FOR_MS = 3_000;

export class Checks {
  /** Nodes a failure declaration with a majority's confirmation was ever proposed for. */
  private readonly confirmedFailures = new Set<string>();
  /** Each replica's table as last checked. */
  readonly lastState = new Map<string, RoutingState>();
  /** The first applied index at which each shard had an in-sync copy: from there on it must always have one. */
  private readonly firstInSyncAt = new Map<number, number>();
  /** Election safety: the leader of each term. */
  private readonly leaderOfTerm = new Map<number, string>();
  /** Tables agree at equal applied index: the hash first seen at each index. */
  private readonly hashAt = new Map<number, { hash: string; by: string }>();
  /** The newest table applied anywhere (so committed), and its index. */
  newest: { index: number; state: RoutingState } | undefined;

  constructor(private readonly sim: SystemSimulator) {}

  /** The replica as its NodeControl sees it, with every failure declaration checked as it is proposed. */
  watched(replica: CoordinatorReplica): CoordinatorService {
    return {
      status: () => replica.status(),
      read: (c, t) => replica.read(c, t),
      propose: (cmd, t) => {
        this.checkDeclaration(replica.status().id, cmd);
        return replica.propose(cmd, t);
      },
      members: () => replica.members(),
      addMember: (m, t) => replica.addMember(m, t),
      removeMember: (id, t) => replica.removeMember(id, t),
      transferLeadership: (to, t) => replica.transferLeadership(to, t),
      events: (since) => replica.events(since),
      onEvent: (l) => replica.onEvent(l),
      onRoleChange: (l) => replica.onRoleChange(l),
      apiAddressOf: (id) => replica.apiAddressOf(id),
    };
  }

  /** A node is declared failed only with a majority's confirmation, and never while a majority reaches it. */
  checkDeclaration(by: string, cmd: Command): void {
    if (cmd.type === 'setNodeStatus' && cmd.status !== 'unhealthy') this.sim.note(`${by} marks ${cmd.nodeId} ${cmd.status}`);
    else if (cmd.type !== 'setNodeStatus') this.sim.note(`${by} proposes ${cmd.type}${'shardId' in cmd ? ` shard ${cmd.shardId} at epoch ${cmd.expectedEpoch}` : ''}${cmd.type === 'promotePrimary' ? ` (${cmd.nodeId}${cmd.keepInSync === true ? ', the old primary kept in sync' : ''})` : ''}`);
    if (cmd.type !== 'setNodeStatus' || cmd.status !== 'unhealthy') return;
    this.sim.stats.declaredFailed++;
    const n = [...this.sim.dataNodes.values()].find((x) => x.id === cmd.nodeId);
    this.sim.note(`${by} declares ${cmd.nodeId} failed, confirmed by ${cmd.confirmedBy.join(',')} of ${cmd.voters}`);
    if (cmd.confirmedBy.length * 2 <= cmd.voters) this.sim.fail('failure needs a majority', `${by} declares ${cmd.nodeId} failed with ${cmd.confirmedBy.length} of ${cmd.voters} confirmations`);
    else this.confirmedFailures.add(cmd.nodeId);
    if (n && this.sim.nodeUp(n) && !this.sim.leases.paused(n.id) && (n.unreachedAtStep < 0 || (this.sim.step - n.unreachedAtStep) * STEP_MS > REACHED_FOR_MS)) {
      this.sim.fail('failure declared while a majority reaches the node', `${by} declares ${cmd.nodeId} failed; a majority has reached it ${n.unreachedAtStep < 0 ? 'all along' : `since ${n.unreachedAtStep * STEP_MS} ms`}`);
    }
  }

  async check(): Promise<void> {
    for (const p of this.sim.procs) {
      if (!p.alive || !p.replica) continue;
      const s = p.replica.status();
      if (s.role === 'leader') {
        const known = this.leaderOfTerm.get(s.term);
        if (known === undefined) this.leaderOfTerm.set(s.term, p.id);
        else if (known !== p.id) this.sim.fail('election safety', `${known} and ${p.id} both lead term ${s.term}`);
      }
      if (s.appliedIndex === p.checkedIndex) continue;
      p.checkedIndex = s.appliedIndex;
      const { state } = await p.replica.read('stale');
      this.lastState.set(p.id, state);
      if (this.newest === undefined || s.appliedIndex > this.newest.index) this.newest = { index: s.appliedIndex, state };
      const hash = stateHash(state);
      const seen = this.hashAt.get(s.appliedIndex);
      if (!seen) this.hashAt.set(s.appliedIndex, { hash, by: p.id });
      else if (seen.hash !== hash) {
        const who = seen.by === p.id ? `${p.id} (after a restart) and ${p.id} (before)` : `${p.id} and ${seen.by}`;
        this.sim.fail('tables agree at equal applied index', `${who} differ at index ${s.appliedIndex}`);
      }
      for (const a of this.sim.workload.acks) {
        if (a.index <= s.appliedIndex && state.nodes[a.nodeId] === undefined) {
          this.sim.fail('acknowledged write lost', `${p.id} applied index ${s.appliedIndex} but has no ${a.nodeId}, acknowledged at ${a.index}`);
          break;
        }
      }
      for (const n of Object.values(state.nodes)) {
        if (n.status === 'unhealthy' && !this.confirmedFailures.has(n.id)) this.sim.fail('failure needs a majority', `${p.id} has ${n.id} unhealthy, never confirmed by a majority`);
      }
      for (const sh of state.shards) {
        const first = this.firstInSyncAt.get(sh.id);
        if (sh.inSync.length > 0) {
          if (first === undefined || s.appliedIndex < first) this.firstInSyncAt.set(sh.id, s.appliedIndex);
        } else if (first !== undefined && s.appliedIndex >= first) {
          this.sim.fail('a shard keeps an in-sync copy', `${p.id} at ${s.appliedIndex}: shard ${sh.id} has no in-sync copy left (it had one at ${first})`);
        }
      }
      const broken = invariantViolations(state);
      if (broken.length > 0) this.sim.fail('table invariants', `${p.id} at ${s.appliedIndex}: ${broken[0]}`);
    }
  }

  converged(): boolean {
    const statuses = this.sim.procs.map((p) => (this.sim.running(p) ? p.replica!.status() : undefined));
    if (statuses.some((s) => s === undefined)) return false;
    const first = statuses[0]!;
    if (!first.leader) return false;
    return statuses.every((s) => s!.leader === first.leader && s!.appliedIndex === first.appliedIndex && s!.commitIndex === first.commitIndex && s!.stateHash === first.stateHash);
  }

  /**
   * After healing: the shards of the newest committed table that are not yet
   * served by a primary with every copy in the in-sync set (one line each).
   * A shard never assigned (epoch 0) holds no data and is not counted: its
   * first assignment is the planner's pace, not a copy left behind (at
   * 1,024 shards it is not done 10 s after healing while nodes keep joining).
   */
  notInSync(): string[] {
    const state = this.newest?.state;
    if (state === undefined) return ['no table applied yet'];
    const out: string[] = [];
    for (const sh of state.shards) {
      if (sh.epoch === 0) continue;
      if (sh.primary === null) {
        out.push(`shard ${sh.id} has no primary (epoch ${sh.epoch})`);
        continue;
      }
      const lagging = sh.replicas.filter((x) => !sh.inSync.includes(x));
      if (lagging.length > 0) out.push(`shard ${sh.id} (epoch ${sh.epoch}, primary ${sh.primary}): ${lagging.join(', ')} out of the in-sync set`);
    }
    return out;
  }

  async finalCheck(): Promise<void> {
    for (const p of this.sim.procs) {
      const { state } = await p.replica!.read('stale');
      const missing = this.sim.workload.acks.find((a) => state.nodes[a.nodeId] === undefined);
      if (missing) this.sim.fail('acknowledged write lost', `${p.id} ends without ${missing.nodeId}, acknowledged at ${missing.index}`);
    }
  }

  describeReplicas(): string {
    return this.sim.procs
      .map((p) => {
        if (!p.alive || !p.replica) return `${p.id} down`;
        const s = p.replica.status();
        return `${p.id} ${s.role} t${s.term} leader ${s.leader || '-'} commit ${s.commitIndex} applied ${s.appliedIndex}`;
      })
      .join('; ');
  }
}
