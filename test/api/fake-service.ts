/**
 * A small in-memory CoordinatorService for the API tests: commands go
 * through the real routing `apply`, events are kept and published like the
 * replica does, and a test can make it a follower (membership calls throw
 * NOT_LEADER), leaderless, quorum-less, or slow (TIMEOUT), and it reports
 * its role changes like the replica.
 */
import {
  apply,
  applyMemberChange,
  encodeMemberContext,
  eventsSince,
  initialState,
  type Command,
  type RoutingEvent,
  type RoutingState,
} from '../../src/coordinator/routing/index.js';
import type {
  CommandOutcome,
  Consistency,
  CoordinatorService,
  MemberStatus,
  NewMember,
  ReplicaRole,
  ReplicaStatus,
  RoleChange,
  StateRead,
} from '../../src/coordinator/service.js';
import { NodeControl, type NodeControlModules, type NodeControlOptions } from '../../src/coordinator/node-control.js';
import type { NodeLink } from '../../src/coordinator/node-link.js';
import { ClusterError, ClusterErrorCode } from '../../src/errors/index.js';
import { silentLogger } from '../../src/observability/index.js';

export interface FakeServiceOptions {
  readonly id?: string;
  readonly shards?: number;
  readonly members?: readonly { id: string; host: string; apiPort: number; peerPort: number }[];
}

export class FakeCoordinatorService implements CoordinatorService {
  readonly id: string;
  state: RoutingState;
  appliedIndex = 0;
  term = 1;
  role: ReplicaRole = 'leader';
  leader: string;
  /** Linearizable reads and proposals fail with NO_QUORUM. */
  noQuorum = false;
  /** Proposals (and linearizable reads) fail with TIMEOUT. */
  timesOut = false;
  /** Awaited by every linearizable read before it reads the table (a ReadIndex under way). */
  readGate: Promise<void> | undefined;
  /** What stale reads report on a follower. */
  stalenessMs = 250;
  readonly startedAtMs = Date.now() - 5_000;
  /** API addresses by replica id (what `apiAddressOf` answers). */
  readonly addresses = new Map<string, string>();
  readonly proposed: Command[] = [];
  readonly membershipCalls: string[] = [];
  private readonly listeners = new Set<(e: RoutingEvent) => void>();
  private readonly roleListeners = new Set<(c: RoleChange) => void>();

  constructor(options: FakeServiceOptions = {}) {
    this.id = options.id ?? 'c1';
    this.leader = this.id;
    const members = options.members ?? [{ id: this.id, host: '127.0.0.1', apiPort: 7001, peerPort: 7101 }];
    this.state = initialState({ clusterId: 'torua-test', shards: options.shards ?? 4, members: [...members] });
  }

  /** A follower of `leader` (whose API is at `address`, if known): membership calls throw NOT_LEADER. */
  followerOf(leader: string, address?: string): this {
    this.role = 'follower';
    this.leader = leader;
    if (address !== undefined) this.addresses.set(leader, address);
    this.roleChanged();
    return this;
  }

  /** An election is running: no leader known. */
  leaderless(): this {
    this.role = 'candidate';
    this.leader = '';
    this.roleChanged();
    return this;
  }

  /** This replica wins an election (a new term). */
  becomeLeader(): this {
    this.term++;
    this.role = 'leader';
    this.leader = this.id;
    this.roleChanged();
    return this;
  }

  private roleChanged(): void {
    for (const l of [...this.roleListeners]) l({ role: this.role, term: this.term, leader: this.leader });
  }

  onRoleChange(listener: (c: RoleChange) => void): () => void {
    this.roleListeners.add(listener);
    return () => this.roleListeners.delete(listener);
  }

  status(): ReplicaStatus {
    return {
      id: this.id,
      clusterId: this.state.clusterId,
      role: this.role,
      leader: this.leader,
      term: this.term,
      commitIndex: this.appliedIndex,
      appliedIndex: this.appliedIndex,
      stateHash: `hash-${this.appliedIndex}`,
      startedAtMs: this.startedAtMs,
      version: '0.1.0-test',
    };
  }

  private checkQuorum(operation: string): void {
    if (this.noQuorum) throw new ClusterError({ code: ClusterErrorCode.NoQuorum, reason: 'test: no majority reachable' }, `${operation}: no quorum reachable`);
    if (this.timesOut) throw new ClusterError({ code: ClusterErrorCode.Timeout, operation, timeoutMs: 10 }, `${operation} did not complete within 10 ms`);
  }

  async read(consistency: Consistency, _timeoutMs?: number): Promise<StateRead> {
    if (consistency === 'linearizable') {
      this.checkQuorum('linearizable read');
      if (this.readGate !== undefined) await this.readGate;
    }
    const stalenessMs = consistency === 'stale' && this.role !== 'leader' ? this.stalenessMs : 0;
    return { state: this.state, appliedIndex: this.appliedIndex, consistency, stalenessMs };
  }

  async propose(command: Command): Promise<CommandOutcome> {
    this.checkQuorum(command.type);
    this.proposed.push(command);
    // Like the replica: the proposer's clock is stamped into the command before it enters the log.
    const index = ++this.appliedIndex;
    const out = apply(this.state, { ...command, atMs: Date.now() }, { index, term: this.term });
    this.publish(out.state);
    return out.result.ok ? { ok: true, index, changed: out.result.changed } : { ok: false, index, code: out.result.code, message: out.result.message };
  }

  private publish(next: RoutingState): void {
    const before = this.state.events.nextSeq;
    this.state = next;
    for (const e of next.events.items) if (e.seq >= before) for (const l of this.listeners) l(e);
  }

  private checkLeader(what: string): void {
    if (this.role === 'leader') return;
    if (this.leader === '') throw new ClusterError({ code: ClusterErrorCode.NoLeader, term: this.term }, 'no leader is known; retry shortly');
    throw new ClusterError({ code: ClusterErrorCode.NotLeader, leader: this.leader, term: this.term }, `${what} runs on the leader ${this.leader}`);
  }

  async members(): Promise<MemberStatus[]> {
    return Object.values(this.state.members).map((m) => ({
      id: m.id,
      host: m.host,
      apiPort: m.apiPort,
      peerPort: m.peerPort,
      role: m.id === this.leader ? 'leader' : m.role === 'learner' ? 'learner' : 'follower',
      term: m.id === this.id ? this.term : null,
      commitIndex: m.id === this.id ? this.appliedIndex : null,
      appliedIndex: m.id === this.id ? this.appliedIndex : null,
      matchIndex: null,
      lastContactMs: m.id === this.id ? 0 : null,
      stateHash: m.id === this.id ? `hash-${this.appliedIndex}` : null,
    }));
  }

  private memberChange(type: 'addLearner' | 'promote' | 'remove', node: string, context: string): void {
    const out = applyMemberChange(this.state, { type, node, context }, { index: ++this.appliedIndex, term: this.term });
    this.publish(out.state);
  }

  async addMember(member: NewMember, _timeoutMs?: number, by?: string): Promise<void> {
    this.membershipCalls.push(`add ${member.id}`);
    this.checkLeader('adding a member');
    const context = encodeMemberContext({ atMs: Date.now(), host: member.host, apiPort: member.apiPort, peerPort: member.peerPort, ...(by === undefined ? {} : { by }) });
    this.memberChange('addLearner', member.id, context);
    this.memberChange('promote', member.id, context);
  }

  async removeMember(id: string, _timeoutMs?: number, by?: string): Promise<void> {
    this.membershipCalls.push(`remove ${id}`);
    this.checkLeader('removing a member');
    if (!Object.hasOwn(this.state.members, id)) throw new ClusterError({ code: ClusterErrorCode.NotFound, resource: 'member', id }, `no member ${id}`);
    this.memberChange('remove', id, encodeMemberContext({ atMs: Date.now(), ...(by === undefined ? {} : { by }) }));
  }

  async transferLeadership(to: string): Promise<void> {
    this.membershipCalls.push(`transfer ${to}`);
    this.checkLeader('leadership transfer');
    if (to === this.id) return;
    this.role = 'follower';
    this.leader = to;
    this.term++;
    this.roleChanged();
  }

  events(since: number): RoutingEvent[] {
    return eventsSince(this.state, since);
  }

  onEvent(listener: (e: RoutingEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  apiAddressOf(id: string): string | undefined {
    return this.addresses.get(id);
  }
}

/** A registerNode command as the API would build it. */
export function registerCommand(id: string, capacity = 8): Extract<Command, { type: 'registerNode' }> {
  return { type: 'registerNode', atMs: 0, reason: 'test', nodeId: id, address: `127.0.0.1:${8000 + (id.length % 100)}`, capacity, version: '0.1.0' };
}

const noNode = (address: string) => new ClusterError({ code: ClusterErrorCode.Unavailable, reason: 'test: no node' }, `no node at ${address}`);

/** A node link whose every handoff and probe fails, as if no node answered. */
export const unreachableNodes: NodeLink = {
  handoff: (address) => Promise.reject(noNode(address)),
  probe: (address) => Promise.reject(noNode(address)),
};

/**
 * The leader duties of an API server without a placement driver, over the
 * fake service; `options` and `modules` add to that (a health monitor, a
 * replica link, a logger …).
 */
export function nodeControlFor(
  service: CoordinatorService,
  nodeLink: NodeLink = unreachableNodes,
  options: Partial<NodeControlOptions> = {},
  modules: Partial<Omit<NodeControlModules, 'service' | 'nodeLink'>> = {},
): NodeControl {
  return new NodeControl({ placement: false, ...options }, { service, nodeLink, logger: silentLogger, ...modules });
}
