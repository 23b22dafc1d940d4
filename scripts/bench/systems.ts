/**
 * The two systems the coordinator bench drives through one interface: three
 * real Torua coordinator replicas (from dist/) on 127.0.0.11–13, and a
 * three-member etcd on 127.0.0.21–23 (its v3 HTTP/JSON gateway).
 */
import { benchCredentials, CERTS_DIR, makeBenchCerts, useBenchTls } from './bench-tls.js';
import type http from 'node:http';
import path from 'node:path';
import { parseJson, request } from './http.js';
import { benchNodeArgs, benchStopSignal } from './node-args.js';
import type { Child } from '../launch/child.js';
import { LaunchGroup } from '../launch/group.js';
import { freePort, loopbackAlias } from '../launch/ports.js';
import { layoutCoordinators, toruaChild, writeClusterFile, type ClusterFile } from '../launch/torua-cluster-file.js';
import { log } from '../launch/log.js';
import { sleep, waitFor } from '../launch/wait-for.js';

export interface Member {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

export interface Progress {
  /** The member's own applied (or raft) index. */
  readonly applied: number;
  /** The index the leader has committed (only meaningful on the leader). */
  readonly commit: number;
  readonly isLeader: boolean;
  readonly leader: string | undefined;
}

export interface System {
  readonly label: string;
  readonly members: readonly Member[];
  start(): Promise<void>;
  /** A small real write by `worker` (a pre-created key per worker). True when acknowledged. */
  write(agent: http.Agent | false, m: Member, worker: number, seq: number, timeoutMs: number): Promise<boolean>;
  read(agent: http.Agent | false, m: Member, worker: number, stale: boolean, timeoutMs: number): Promise<boolean>;
  /** What `m` reports about itself, or undefined when it does not answer in time. */
  progress(m: Member, timeoutMs: number): Promise<Progress | undefined>;
  fault(id: string, signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void>;
  isRunning(id: string): boolean;
  /** CPU seconds the system's running processes have used so far. */
  cpuSeconds(): number;
  restart(id: string): Promise<void>;
  close(): Promise<void>;
}

const WORKER_KEYS = 64;

/** The leader a majority of the running members agrees on (each asked over a fresh connection). */
export async function majorityLeader(sys: System, exclude: string | undefined, timeoutMs = 250): Promise<string | undefined> {
  const running = sys.members.filter((m) => sys.isRunning(m.id));
  const ps = await Promise.all(running.map((m) => sys.progress(m, timeoutMs)));
  const votes = new Map<string, number>();
  let self: string | undefined;
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i];
    if (!p?.leader) continue;
    votes.set(p.leader, (votes.get(p.leader) ?? 0) + 1);
    if (p.isLeader) self = running[i]!.id;
  }
  const majority = Math.floor(sys.members.length / 2) + 1;
  for (const [leader, n] of votes) if (n >= majority && leader !== exclude && leader === self) return leader;
  return undefined;
}

export async function waitForLeader(sys: System, exclude?: string, timeoutMs = 30_000): Promise<string> {
  return waitFor(`a leader of ${sys.label}${exclude ? ` other than ${exclude}` : ''}`, () => majorityLeader(sys, exclude), { timeoutMs, intervalMs: 20 });
}

export function memberOf(sys: System, id: string): Member {
  const m = sys.members.find((x) => x.id === id);
  if (!m) throw new Error(`no member ${id}`);
  return m;
}

/** Waits until `id` applied what the leader had committed when asked (bounded). */
export async function waitCaughtUp(sys: System, id: string, timeoutMs = 30_000): Promise<void> {
  const leader = await waitForLeader(sys, undefined, timeoutMs);
  const lp = await waitFor('the leader progress', () => sys.progress(memberOf(sys, leader), 500), { timeoutMs, intervalMs: 20 });
  const target = lp.commit;
  await waitFor(`${id} to catch up to ${target}`, async () => {
    const p = await sys.progress(memberOf(sys, id), 500);
    return p && p.applied >= target && p.leader !== undefined ? true : undefined;
  }, { timeoutMs, intervalMs: 20 });
}

/**
 * What both systems share: their children in one launch group, the signals
 * the failover measures send, and the teardown.
 */
abstract class SystemProcesses {
  protected group: LaunchGroup | undefined;

  protected get dir(): string {
    if (this.group === undefined) throw new Error('not started');
    return this.group.dir;
  }

  protected child(id: string): Child | undefined {
    return this.group?.has(id) === true ? this.group.child(id) : undefined;
  }

  async fault(id: string, signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    const c = this.child(id);
    if (c === undefined || !c.alive) return;
    if (signal === 'SIGKILL') await c.stop('SIGKILL');
    else c.signal(signal);
  }

  isRunning(id: string): boolean {
    return this.child(id)?.state === 'running';
  }

  cpuSeconds(): number {
    return this.group?.cpuSeconds() ?? 0;
  }

  /** Kills `id` if it still runs (before it is started again). */
  protected async killIfAlive(id: string): Promise<void> {
    await this.child(id)?.stop('SIGKILL');
  }

  async close(): Promise<void> {
    await this.group?.close();
  }
}

// ---------------------------------------------------------------------------
// Torua
// ---------------------------------------------------------------------------

export class ToruaCluster extends SystemProcesses implements System {
  readonly label: string;
  members: Member[] = [];
  private file = '';

  /** tls: mutual TLS on every port (certificates made at start), the bench's requests with the client certificate. */
  constructor(private readonly tls = false) {
    super();
    this.label = tls ? 'torua tls' : 'torua';
  }

  async start(): Promise<void> {
    this.group = await LaunchGroup.create({ prefix: 'torua-bench-', stopSignal: benchStopSignal(), output: 'file' });
    const coordinators = await layoutCoordinators(3);
    this.members.push(...coordinators.map((c) => ({ id: c.id, host: c.host, port: c.apiPort })));
    this.file = path.join(this.dir, 'cluster.json');
    const content: ClusterFile = {
      clusterId: 'bench',
      dataDir: path.join(this.dir, 'data'),
      shards: 8,
      replicationFactor: 2,
      coordinators,
      nodes: [],
      raft: {},
      logLevel: 'info',
      ...(this.tls ? { tls: { dir: CERTS_DIR } } : {}),
    };
    if (this.tls) {
      log(`torua tls: making certificates for 3 replicas and ${WORKER_KEYS} bench nodes`);
      await makeBenchCerts(this.dir, content, Array.from({ length: WORKER_KEYS }, (_, k) => `bench-n${k}`));
      useBenchTls(this.dir);
    }
    await writeClusterFile(this.file, content);
    await Promise.all(this.members.map((m) => this.spawn(m.id)));
    const leader = await waitForLeader(this);
    log(`torua: leader ${leader}; registering ${WORKER_KEYS} nodes`);
    const lm = memberOf(this, leader);
    for (let k = 0; k < WORKER_KEYS; k++) {
      // With TLS only node X's certificate registers X.
      const as = this.tls ? benchCredentials(this.dir, `bench-n${k}`) : undefined;
      const a = await request(false, lm.host, lm.port, 'POST', '/register', { id: `bench-n${k}`, address: '127.0.0.1:9', capacity: 0 }, 5_000, as);
      if (a.status !== 200) throw new Error(`POST /register bench-n${k}: ${a.status} ${a.text.slice(0, 200)}`);
    }
    await this.retireBenchNodes(lm);
  }

  /**
   * The bench's nodes exist only to be written to; nothing listens at their
   * address. Drained (they hold no copies, so they leave at once), they are
   * no longer probed: the leader's probes of 64 closed ports and the failure
   * decisions about them would load the system under test. Their labels can
   * still be written.
   */
  private async retireBenchNodes(lm: Member): Promise<void> {
    for (let k = 0; k < WORKER_KEYS; k++) {
      const a = await request(false, lm.host, lm.port, 'POST', `/nodes/bench-n${k}/drain`, { reason: 'bench node: labels only' }, 5_000);
      if (a.status !== 200) throw new Error(`POST /nodes/bench-n${k}/drain: ${a.status} ${a.text.slice(0, 200)}`);
    }
    await waitFor('the bench nodes to leave', async () => {
      const a = await request(false, lm.host, lm.port, 'GET', '/nodes?stale=true', undefined, 2_000);
      const nodes = (parseJson(a.text) as { nodes?: Array<{ id: string; status: string }> } | undefined)?.nodes;
      if (a.status !== 200 || !Array.isArray(nodes)) return undefined;
      return nodes.filter((n) => n.id.startsWith('bench-n') && n.status !== 'left').length === 0 ? true : undefined;
    }, { timeoutMs: 30_000, intervalMs: 100 });
  }

  private async spawn(id: string): Promise<void> {
    const m = memberOf(this, id);
    const existing = this.child(id);
    const child = existing ?? this.group!.add(toruaChild(id, ['coordinator', '--config', this.file, '--id', id], { nodeArgs: benchNodeArgs() }));
    child.start();
    await child.waitReady('it to answer /health', async () => (await request(false, m.host, m.port, 'GET', '/health', undefined, 500)).status === 200);
  }

  write(agent: http.Agent | false, m: Member, worker: number, seq: number, timeoutMs: number): Promise<boolean> {
    return request(agent, m.host, m.port, 'PUT', `/nodes/bench-n${worker % WORKER_KEYS}/labels`, { labels: { bench: `v${seq}` } }, timeoutMs).then((a) => a.status === 200);
  }

  read(agent: http.Agent | false, m: Member, _worker: number, stale: boolean, timeoutMs: number): Promise<boolean> {
    return request(agent, m.host, m.port, 'GET', stale ? '/cluster/info?stale=true' : '/cluster/info', undefined, timeoutMs).then((a) => a.status === 200);
  }

  async progress(m: Member, timeoutMs: number): Promise<Progress | undefined> {
    const a = await request(false, m.host, m.port, 'GET', '/health', undefined, timeoutMs);
    if (a.status !== 200) return undefined;
    const h = parseJson(a.text) as { role?: string; leader?: string | null; commit_index?: number; applied_index?: number; id?: string } | undefined;
    if (!h) return undefined;
    return { applied: h.applied_index ?? 0, commit: h.commit_index ?? 0, isLeader: h.role === 'leader', leader: h.leader ?? undefined };
  }

  async restart(id: string): Promise<void> {
    await this.killIfAlive(id);
    await this.spawn(id);
  }

  override async close(): Promise<void> {
    await super.close();
    if (this.tls) useBenchTls(undefined);
  }
}

// ---------------------------------------------------------------------------
// etcd
// ---------------------------------------------------------------------------

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

export class EtcdCluster extends SystemProcesses implements System {
  readonly members: Member[] = [];
  private peerUrls = new Map<string, string>();
  /** etcd member id (decimal string) → our name. */
  private readonly names = new Map<string, string>();

  constructor(
    readonly label: string,
    private readonly binary: string,
    private readonly timings: { heartbeatMs: number; electionMs: number } | undefined,
  ) {
    super();
  }

  async start(): Promise<void> {
    this.group = await LaunchGroup.create({ prefix: 'torua-bench-etcd-', output: 'file' });
    for (let i = 0; i < 3; i++) {
      const host = loopbackAlias(21 + i);
      const id = `e${i + 1}`;
      this.members.push({ id, host, port: await freePort(host) });
      this.peerUrls.set(id, `http://${host}:${await freePort(host)}`);
    }
    for (const m of this.members) this.spawn(m.id, true);
    await Promise.all(this.members.map((m) => this.waitUp(m)));
    for (const m of this.members) {
      const a = await this.status(m, 2_000);
      const mid = a?.header?.member_id as string | undefined;
      if (mid) this.names.set(String(mid), m.id);
    }
    const leader = await waitForLeader(this);
    log(`${this.label}: leader ${leader}; writing ${WORKER_KEYS} keys`);
    const lm = memberOf(this, leader);
    for (let k = 0; k < WORKER_KEYS; k++) {
      if (!(await this.write(false, lm, k, 0, 5_000))) throw new Error(`etcd put k${k} failed`);
    }
  }

  private spawn(id: string, fresh: boolean): void {
    const m = memberOf(this, id);
    const client = `http://${m.host}:${m.port}`;
    const args = [
      '--name', id,
      '--data-dir', path.join(this.dir, 'data', id),
      '--listen-client-urls', client,
      '--advertise-client-urls', client,
      '--listen-peer-urls', this.peerUrls.get(id)!,
      '--initial-advertise-peer-urls', this.peerUrls.get(id)!,
      '--initial-cluster', [...this.peerUrls].map(([n, u]) => `${n}=${u}`).join(','),
      '--initial-cluster-token', 'torua-bench',
      '--initial-cluster-state', fresh ? 'new' : 'existing',
    ];
    if (this.timings) args.push('--heartbeat-interval', String(this.timings.heartbeatMs), '--election-timeout', String(this.timings.electionMs));
    const existing = this.child(id);
    if (existing !== undefined) existing.start({ args });
    else this.group!.start({ name: id, command: this.binary, args });
  }

  private async waitUp(m: Member): Promise<void> {
    await this.child(m.id)!.waitReady(`${this.label} to answer`, async () => (await this.status(m, 500)) !== undefined);
  }

  private async status(m: Member, timeoutMs: number): Promise<any> {
    const a = await request(false, m.host, m.port, 'POST', '/v3/maintenance/status', {}, timeoutMs);
    return a.status === 200 ? parseJson(a.text) : undefined;
  }

  write(agent: http.Agent | false, m: Member, worker: number, seq: number, timeoutMs: number): Promise<boolean> {
    return request(agent, m.host, m.port, 'POST', '/v3/kv/put', { key: b64(`k${worker % WORKER_KEYS}`), value: b64(`v${seq}`) }, timeoutMs).then(
      (a) => a.status === 200 && !a.text.includes('"error"'),
    );
  }

  read(agent: http.Agent | false, m: Member, worker: number, stale: boolean, timeoutMs: number): Promise<boolean> {
    return request(agent, m.host, m.port, 'POST', '/v3/kv/range', { key: b64(`k${worker % WORKER_KEYS}`), serializable: stale }, timeoutMs).then(
      (a) => a.status === 200 && !a.text.includes('"error"'),
    );
  }

  async progress(m: Member, timeoutMs: number): Promise<Progress | undefined> {
    const s = await this.status(m, timeoutMs);
    if (!s) return undefined;
    const leaderName = s.leader && String(s.leader) !== '0' ? this.names.get(String(s.leader)) : undefined;
    const self = this.names.get(String(s.header?.member_id));
    const idx = Number(s.raftAppliedIndex ?? s.raftIndex ?? 0);
    return { applied: idx, commit: Number(s.raftIndex ?? idx), isLeader: self !== undefined && self === leaderName, leader: leaderName };
  }

  async restart(id: string): Promise<void> {
    await this.killIfAlive(id);
    this.spawn(id, false);
    await this.waitUp(memberOf(this, id));
  }
}

export { sleep };
