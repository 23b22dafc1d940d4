/**
 * Three coordinator replicas in process for the health monitor's tests: the
 * leader c1 (a fake service with the real routing apply, a NodeControl with
 * the monitor) and the followers c2, c3 (fake services following c1, each
 * with its own NodeControl answering `health.confirm`). Every replica probes
 * the data nodes through its own scripted node link, so a test can cut one
 * replica's path to a node and not the others'. Time is vitest's fake clock
 * (Date and timers): the monitor, the lease table and the fake service all
 * read it, and a test moves it on with `advanceUntil`.
 */
import { vi } from 'vitest';
import type { ConfirmAnswer, ConfirmRequest, ReplicaLink } from '../../../src/coordinator/health/index.js';
import { NodeControl } from '../../../src/coordinator/node-control.js';
import type { NodeLink, NodeProbe } from '../../../src/coordinator/node-link.js';
import type { Command, SettingsPatch } from '../../../src/coordinator/routing/index.js';
import { ClusterErrorCode, isClusterError } from '../../../src/errors/index.js';
import { createMemoryLogger, type MemoryLogger } from '../../../src/observability/index.js';
import { FakeCoordinatorService } from '../../api/fake-service.js';

export type Behaviour = 'up' | 'hung';

/** One replica's view of the data nodes: each answers its /health, or hangs until the probe times out. */
export class ScriptedNodes implements NodeLink {
  private readonly behaviour = new Map<string, Behaviour>();
  readonly leaseValid = new Map<string, boolean>();
  /** Probes started, by node id, with the fake time they started at. */
  readonly probes: { node: string; atMs: number }[] = [];

  constructor(private readonly idOf: (address: string) => string) {}

  set(nodeId: string, b: Behaviour): void {
    this.behaviour.set(nodeId, b);
  }

  probesOf(nodeId: string, sinceMs = 0): number {
    return this.probes.filter((p) => p.node === nodeId && p.atMs >= sinceMs).length;
  }

  handoff(address: string): Promise<{ lastSeq: number }> {
    return Promise.reject(new Error(`test: no handoff to ${address}`));
  }

  probe(address: string, timeoutMs: number): Promise<NodeProbe> {
    const id = this.idOf(address);
    this.probes.push({ node: id, atMs: Date.now() });
    if ((this.behaviour.get(id) ?? 'up') === 'hung') {
      return new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs));
    }
    const valid = this.leaseValid.get(id) ?? true;
    return Promise.resolve({ status: 'ok', id, lease: { valid, remainingMs: valid ? 500 : 0, leader: 'c1', term: 1 } });
  }
}

const MEMBERS = ['c1', 'c2', 'c3'].map((id, i) => ({ id, host: '127.0.0.1', apiPort: 7001 + i, peerPort: 7101 + i }));

export interface HarnessOptions {
  readonly nodes?: readonly string[];
  readonly settings?: SettingsPatch;
  /** The leader starts as a follower of c2 (and runs nothing) until `leader.becomeLeader()`. */
  readonly leaderStartsAsFollower?: boolean;
}

export interface ConfirmCall {
  readonly replica: string;
  readonly nodeId: string;
  readonly atMs: number;
}

export class Harness {
  readonly leader = new FakeCoordinatorService({ id: 'c1', members: MEMBERS });
  readonly followers = new Map<string, { service: FakeCoordinatorService; control: NodeControl; nodes: ScriptedNodes }>();
  readonly leaderNodes: ScriptedNodes;
  readonly logger: MemoryLogger = createMemoryLogger('debug');
  readonly confirmCalls: ConfirmCall[] = [];
  /** Replicas that do not answer the leader at all. */
  readonly unreachableReplicas = new Set<string>();
  /** Nodes whose process runs (they renew leases); a hung one does not. */
  readonly alive = new Set<string>();
  /** When each data node last renewed its lease with the leader. */
  readonly renewedAtMs = new Map<string, number>();
  control!: NodeControl;
  private readonly addresses = new Map<string, string>();
  private renewals: NodeJS.Timeout | undefined;

  private constructor(readonly nodeIds: readonly string[]) {
    nodeIds.forEach((id, i) => {
      this.addresses.set(`127.0.0.1:${8081 + i}`, id);
      this.alive.add(id);
    });
    const idOf = (address: string) => this.addresses.get(address) ?? `nobody-at-${address}`;
    this.leaderNodes = new ScriptedNodes(idOf);
    for (const m of MEMBERS.slice(1)) {
      const service = new FakeCoordinatorService({ id: m.id, members: MEMBERS }).followerOf('c1');
      const nodes = new ScriptedNodes(idOf);
      this.followers.set(m.id, { service, nodes, control: new NodeControl({ placement: false }, { service, nodeLink: nodes, logger: this.logger.child({ replica: m.id }) }) });
    }
  }

  static async start(options: HarnessOptions = {}): Promise<Harness> {
    const h = new Harness(options.nodes ?? ['n1', 'n2', 'n3']);
    await h.init(options);
    return h;
  }

  private async init(options: HarnessOptions): Promise<void> {
    for (const [address, id] of this.addresses) {
      await this.leader.propose({ type: 'registerNode', atMs: 0, reason: 'test', nodeId: id, address, capacity: 8, version: '0.1.0', identity: `identity-${id}` });
    }
    if (options.settings !== undefined) await this.updateSettings(options.settings);
    this.syncFollowers();
    if (options.leaderStartsAsFollower) this.leader.followerOf('c2');
    const replicaLink: ReplicaLink = {
      confirm: (apiAddress: string, req: ConfirmRequest): Promise<ConfirmAnswer> => {
        const replica = MEMBERS.find((m) => `${m.host}:${m.apiPort}` === apiAddress)?.id ?? apiAddress;
        this.confirmCalls.push({ replica, nodeId: req.nodeId, atMs: Date.now() });
        const follower = this.followers.get(replica);
        if (follower === undefined || this.unreachableReplicas.has(replica)) return Promise.reject(new Error(`connect ECONNREFUSED ${apiAddress}`));
        return follower.control.confirmProbe(req);
      },
    };
    this.control = new NodeControl({ placement: false, health: {} }, { service: this.leader, nodeLink: this.leaderNodes, replicaLink, logger: this.logger.child({ replica: 'c1' }) });
    // Data nodes that answer renew their leases with the leader every 300 ms, like a running node.
    this.renewals = setInterval(() => void this.renewLiveNodes(), 300);
    await this.renewLiveNodes();
  }

  private async renewLiveNodes(): Promise<void> {
    if (this.leader.role !== 'leader') return;
    for (const id of this.nodeIds) {
      if (this.alive.has(id)) {
        try {
          await this.control.renewLease({ id, identity: `identity-${id}` });
        } catch (e) {
          // Refused for now (a restored cluster grants none until it has heard every node): no lease, as for a real node.
          if (isClusterError(e, ClusterErrorCode.Unavailable)) continue;
          throw e;
        }
        this.renewedAtMs.set(id, Date.now());
      }
    }
  }


  /** The followers see the leader's table (what replication would do). */
  syncFollowers(): void {
    for (const f of this.followers.values()) f.service.state = this.leader.state;
  }

  /** The node stops: nobody reaches it, it renews nothing. */
  hang(nodeId: string): void {
    this.alive.delete(nodeId);
    this.leaderNodes.set(nodeId, 'hung');
    for (const f of this.followers.values()) f.nodes.set(nodeId, 'hung');
  }

  resume(nodeId: string): void {
    this.alive.add(nodeId);
    this.leaderNodes.set(nodeId, 'up');
    for (const f of this.followers.values()) f.nodes.set(nodeId, 'up');
  }

  async updateSettings(settings: SettingsPatch): Promise<void> {
    const outcome = await this.leader.propose({ type: 'updateSettings', atMs: 0, reason: 'test', expectedVersion: this.leader.state.config.version, settings });
    if (!outcome.ok) throw new Error(`settings refused: ${outcome.message}`);
    this.syncFollowers();
  }

  statusOf(nodeId: string): string | undefined {
    return this.leader.state.nodes[nodeId]?.status;
  }

  /** setNodeStatus commands proposed for `nodeId` (with `status`), as proposed. */
  statusCommands(nodeId: string, status?: string): Extract<Command, { type: 'setNodeStatus' }>[] {
    return this.leader.proposed.filter((c): c is Extract<Command, { type: 'setNodeStatus' }> => c.type === 'setNodeStatus' && c.nodeId === nodeId && (status === undefined || c.status === status));
  }

  /** Moves fake time on in small steps until `condition` holds; fails at the (fake) deadline. */
  async advanceUntil(condition: () => boolean, what: string, maxMs = 20_000): Promise<number> {
    const start = Date.now();
    while (!condition()) {
      if (Date.now() - start > maxMs) throw new Error(`not within ${maxMs} ms (fake time): ${what}`);
      await vi.advanceTimersByTimeAsync(10);
    }
    return Date.now();
  }

  async advance(ms: number): Promise<void> {
    await vi.advanceTimersByTimeAsync(ms);
  }

  logged(msg: string): { msg: string; fields: Readonly<Record<string, unknown>> }[] {
    return this.logger.records.filter((r) => r.msg === msg);
  }

  async close(): Promise<void> {
    clearInterval(this.renewals);
    await Promise.all([this.control.close(), ...[...this.followers.values()].map((f) => f.control.close())]);
  }
}
