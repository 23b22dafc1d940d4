/**
 * In-process wiring for data node tests: a coordinator fake that keeps a
 * real routing table (apply + commands) and grants leases from it, a
 * PeerLink that calls the other DataNode objects directly (each link can be
 * made to fail or hang), and a cluster of nodes in temp directories.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { apply, initialState, nodeById, shardForKey, type RoutingState } from '../../src/coordinator/routing/index.js';
import type {
  CoordinatorLink,
  LeaseGrant,
  LeaseRequest,
  PeerLink,
  RecoveryBegin,
  RecoveryBeginRequest,
  RecoveryFinish,
  RecoveryFinishRequest,
  RecoveryPage,
  RecoveryPageRequest,
  RegisterRequest,
  ReplicationAck,
  ReplicationBatch,
  SetInSyncRequest,
  ShardAssignment,
} from '../../src/datanode/contract.js';
import { DataNode, type DataNodeModules, type DataNodeOptions } from '../../src/datanode/index.js';
import { ClusterError, ClusterErrorCode } from '../../src/errors/index.js';
import { createMemoryLogger, type MemoryLogger } from '../../src/observability/index.js';
import { waitFor } from '../support/wait-for.js';


/** Rejects once the signal aborts; never resolves otherwise: a peer or coordinator that does not answer. */
function hang(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(signal?.reason ?? new Error('aborted'));
    if (signal?.aborted) fail();
    else signal?.addEventListener('abort', fail, { once: true });
  });
}

type LinkMode = 'ok' | 'fail' | 'hang';

export class FakeCoordinator implements CoordinatorLink {
  state: RoutingState;
  leaseMs = 5_000;
  /** The term grants name (a test plays an old leader by lowering it). */
  term = 1;
  private index = 0;
  /** Node ids whose renewals fail. */
  readonly refuseRenewals = new Set<string>();
  /** `lost`: the change commits, and its answer is lost (the caller sees a timeout). */
  setInSyncMode: LinkMode | 'lost' = 'ok';
  readonly setInSyncCalls: SetInSyncRequest[] = [];
  /** The newest renewal of each node (what it said it holds). */
  readonly lastRenewal = new Map<string, LeaseRequest>();
  /** The cluster settings the grants carry, when a test sets them (with their version). */
  grantSettings: { configVersion: number; replicaAckTimeoutMs: number } | undefined;

  constructor(shards: number) {
    this.state = initialState({ clusterId: 'test', shards });
  }

  async register(req: RegisterRequest): Promise<void> {
    const r = this.run({ type: 'registerNode', nodeId: req.id, address: req.address, capacity: req.capacity, version: req.version, identity: req.identity });
    if (!r.ok) {
      if (r.code === 'IDENTITY_CONFLICT') throw new ClusterError({ code: ClusterErrorCode.Conflict, reason: 'identity' }, r.message);
      throw new Error(r.message);
    }
    this.run({ type: 'setNodeStatus', nodeId: req.id, status: 'healthy' });
  }

  async renewLease(req: LeaseRequest, signal?: AbortSignal): Promise<LeaseGrant> {
    this.lastRenewal.set(req.id, req);
    if (this.refuseRenewals.has(req.id)) return hang(signal);
    const node = nodeById(this.state, req.id);
    if (node === undefined) throw new ClusterError({ code: ClusterErrorCode.NotFound, resource: 'node', id: req.id }, `no node ${req.id}`);
    if (node.identity !== req.identity) throw new ClusterError({ code: ClusterErrorCode.Conflict, reason: 'identity' }, `identity of ${req.id} differs`);
    const shards: ShardAssignment[] = this.state.shards
      .filter((s) => s.primary === req.id || s.replicas.includes(req.id))
      .map((s) => ({ id: s.id, epoch: s.epoch, primary: s.primary, replicas: s.replicas, inSync: s.inSync }));
    const addresses: Record<string, string> = {};
    for (const s of shards) for (const n of [s.primary, ...s.replicas]) if (n !== null) addresses[n] = nodeById(this.state, n)!.address;
    return {
      leaseMs: this.leaseMs,
      leader: 'c1',
      term: this.term,
      status: node.status,
      shardCount: this.state.shards.length,
      maxValueBytes: 1024,
      shardEpochs: this.state.shards.map((s) => s.epoch),
      ...this.grantSettings,
      shards,
      addresses,
    };
  }

  async setInSync(req: SetInSyncRequest, signal?: AbortSignal): Promise<{ epoch: number }> {
    this.setInSyncCalls.push(req);
    if (this.setInSyncMode === 'hang') return hang(signal);
    if (this.setInSyncMode === 'fail') throw new ClusterError({ code: ClusterErrorCode.NoQuorum }, 'no quorum (test)');
    const r = this.run({ type: 'setInSync', shardId: req.shard, nodeId: req.node, inSync: req.inSync, expectedEpoch: req.expectedEpoch, reason: req.reason });
    if (r.ok && this.setInSyncMode === 'lost') throw new ClusterError({ code: ClusterErrorCode.Timeout, operation: 'setInSync', timeoutMs: 0 }, 'no answer (test: committed, answer lost)');
    if (!r.ok) {
      if (r.code === 'STALE_EPOCH') {
        throw new ClusterError({ code: ClusterErrorCode.StaleEpoch, shard: req.shard, expectedEpoch: req.expectedEpoch, currentEpoch: this.shard(req.shard).epoch }, r.message);
      }
      throw new Error(r.message);
    }
    return { epoch: this.shard(req.shard).epoch };
  }

  async drain(id: string): Promise<void> {
    const r = this.run({ type: 'setNodeStatus', nodeId: id, status: 'draining' });
    if (!r.ok) throw new Error(r.message);
  }

  shard(id: number) {
    return this.state.shards[id]!;
  }

  assign(shard: number, primary: string, replicas: string[]): void {
    this.must(this.run({ type: 'assignShard', shardId: shard, expectedEpoch: this.shard(shard).epoch, primary, replicas }));
  }

  move(shard: number, primary: string | null, replicas: string[]): void {
    this.must(this.run({ type: 'moveShard', shardId: shard, expectedEpoch: this.shard(shard).epoch, primary, replicas }));
  }

  /** `keepInSync`: a planned handoff whose old primary answered caught up stays in sync. */
  promote(shard: number, node: string, keepInSync = false): void {
    this.must(this.run({ type: 'promotePrimary', shardId: shard, expectedEpoch: this.shard(shard).epoch, nodeId: node, ...(keepInSync ? { keepInSync } : {}) }));
  }

  private must(r: { ok: boolean; message?: string }): void {
    if (!r.ok) throw new Error(r.message);
  }

  private run(command: Record<string, unknown>) {
    const out = apply(this.state, { atMs: Date.now(), reason: 'test', ...command }, { index: ++this.index, term: 1 });
    this.state = out.state;
    return out.result;
  }
}

/** Calls the DataNode registered at an address; `mode` per target address makes a link fail or hang. */
export class LocalPeers implements PeerLink {
  readonly nodes = new Map<string, DataNode>();
  readonly mode = new Map<string, LinkMode>();
  /** Every batch sent, per target address (to count batches). */
  readonly batches: { address: string; batch: ReplicationBatch }[] = [];
  /** Awaited before each recovery page is fetched (lets a test interleave writes with the copy). */
  beforePage: () => Promise<void> = async () => {};

  private async call<T>(address: string, signal: AbortSignal | undefined, fn: (n: DataNode) => Promise<T>): Promise<T> {
    const mode = this.mode.get(address) ?? 'ok';
    if (mode === 'hang') return hang(signal);
    if (mode === 'fail') throw new Error(`connection to ${address} refused (test)`);
    const node = this.nodes.get(address);
    if (node === undefined) throw new Error(`nothing listens on ${address}`);
    // A copy through JSON, as over the wire: no shared objects between nodes.
    return structuredClone(await fn(node));
  }

  replicate(address: string, batch: ReplicationBatch, signal?: AbortSignal): Promise<ReplicationAck> {
    this.batches.push({ address, batch });
    return this.call(address, signal, (n) => n.replicate(structuredClone(batch)));
  }

  beginRecovery(address: string, req: RecoveryBeginRequest, signal?: AbortSignal): Promise<RecoveryBegin> {
    return this.call(address, signal, (n) => n.beginRecovery(req));
  }

  async recoveryPage(address: string, req: RecoveryPageRequest, signal?: AbortSignal): Promise<RecoveryPage> {
    await this.beforePage();
    return this.call(address, signal, (n) => n.recoveryPage(req));
  }

  finishRecovery(address: string, req: RecoveryFinishRequest, signal?: AbortSignal): Promise<RecoveryFinish> {
    return this.call(address, signal, (n) => n.finishRecovery(req));
  }
}

export interface TestNode {
  readonly id: string;
  readonly address: string;
  readonly dir: string;
  node: DataNode;
  logger: MemoryLogger;
}

/** Nodes n1, n2, … in one temp directory, wired to one FakeCoordinator and one LocalPeers. */
export class TestCluster {
  readonly root = mkdtempSync(path.join(os.tmpdir(), 'torua-datanode-'));
  readonly coordinator: FakeCoordinator;
  readonly peers = new LocalPeers();
  readonly nodes = new Map<string, TestNode>();
  /** Added to every node's clock: a jump past the lease makes it run out at once. */
  clockOffsetMs = 0;

  constructor(
    shards: number,
    private readonly defaults: Partial<DataNodeOptions> = {},
  ) {
    this.coordinator = new FakeCoordinator(shards);
  }

  /** Creates (not starts) a node; `dir` lets a second process share or not share a directory; `modules` replace the node's clock or timers. */
  create(id: string, opts: Partial<DataNodeOptions> = {}, modules: Pick<DataNodeModules, 'clock' | 'timers'> = {}): TestNode {
    const address = `${id}.test:1`;
    const dir = opts.dataDir ?? path.join(this.root, id);
    const logger = createMemoryLogger('debug');
    const node = new DataNode(
      { id, address, dataDir: dir, capacity: 16, version: 'test', renewEveryMs: 50, replicaAckTimeoutMs: 300, ...this.defaults, ...opts },
      { coordinators: this.coordinator, peers: this.peers, logger, clock: { nowMs: () => performance.now() + this.clockOffsetMs }, ...modules },
    );
    const t: TestNode = { id, address, dir, node, logger };
    this.nodes.set(id, t);
    this.peers.nodes.set(address, node);
    return t;
  }

  async start(...ids: string[]): Promise<void> {
    for (const id of ids) await (this.nodes.get(id) ?? this.create(id)).node.start();
  }

  node(id: string): DataNode {
    return this.nodes.get(id)!.node;
  }

  /** Stops a node and creates a fresh object over the same directory (a restart). */
  async restart(id: string): Promise<DataNode> {
    await this.node(id).stop();
    const t = this.create(id);
    await t.node.start();
    return t.node;
  }

  link(id: string, mode: LinkMode): void {
    this.peers.mode.set(this.nodes.get(id)!.address, mode);
  }

  /** Waits until every node knows the shard's current epoch from the table, in the role the table gives it. */
  async settled(shard: number): Promise<void> {
    await waitFor(`shard ${shard} settled on its nodes`, () => {
      const s = this.coordinator.shard(shard);
      return [s.primary, ...s.replicas].every((id) => {
        if (id === null) return true;
        const copy = this.node(id).info().shards.find((c) => c.id === shard);
        if (copy === undefined || copy.epoch !== s.epoch) return false;
        return id === s.primary ? copy.role === 'primary' : s.inSync.includes(id) ? copy.role === 'replica' : true;
      });
    });
  }

  /** A key that maps to `shard`. */
  keyIn(shard: number, prefix = 'k'): string {
    for (let i = 0; i < 100_000; i++) if (shardForKey(`${prefix}${i}`, this.coordinator.state.shards.length) === shard) return `${prefix}${i}`;
    throw new Error(`no key for shard ${shard}`);
  }

  keysIn(shard: number, n: number, prefix = 'k'): string[] {
    const out: string[] = [];
    for (let i = 0; out.length < n; i++) if (shardForKey(`${prefix}${i}`, this.coordinator.state.shards.length) === shard) out.push(`${prefix}${i}`);
    return out;
  }

  async close(): Promise<void> {
    for (const mode of this.peers.mode.keys()) this.peers.mode.set(mode, 'ok');
    this.coordinator.refuseRenewals.clear();
    this.coordinator.setInSyncMode = 'ok';
    await Promise.allSettled([...this.nodes.values()].map((t) => t.node.stop()));
    rmSync(this.root, { recursive: true, force: true });
  }
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b));

export { waitFor };
