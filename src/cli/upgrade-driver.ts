/**
 * What `torua upgrade` does, one process at a time, each step a committed
 * command (so the table, and `/cluster/info`, always say how far it got, and
 * a leader change only means the next call goes to the new leader):
 *
 * data node: `restart` (it turns `restarting`: its primaries hand over to
 * in-sync replicas) → wait until it holds no primary → the operator's
 * restart command → wait until it registered again reporting the new
 * version → `back` (an ordinary node again) → wait until every copy it
 * holds is in sync again (caught up from its own data) → `done`.
 *
 * coordinators after every node, followers first; the leader last, after
 * handing leadership to an upgraded replica.
 *
 * The first process that does not come back within the restart timeout
 * stops the upgrade (`fail`): the rest keep running the old version, and
 * the cluster keeps serving (the node held no primary any more).
 */
import type { ClusterClient } from '../client/index.js';
import { createReplicaClient, joinAddress } from '../client/index.js';
import type { ProgressDisplay } from './progress.js';
import { restartCommandFor, runRestart } from './restart-process.js';
import { sleep } from '../common/backoff.js';

export interface UpgradePlan {
  readonly to: string;
  readonly nodes: readonly string[];
  readonly coordinators: readonly string[];
  readonly done: readonly string[];
  readonly restartTimeoutMs: number;
}

export interface DriverOptions {
  readonly restart: string;
  readonly pollMs?: number;
}

export interface DriverModules {
  readonly client: ClusterClient;
  readonly progress: ProgressDisplay;
  /** A line on stderr. */
  readonly say: (line: string) => void;
  /** A change of phase (a terminal shows it in the progress line instead). */
  readonly note: (line: string) => void;
  readonly writeErr: (text: string) => void;
}

/** A process did not come back: the upgrade stopped there. */
export class UpgradeStopped extends Error {
  constructor(
    readonly id: string,
    readonly why: string,
  ) {
    super(`${id} did not come back: ${why}`);
  }
}


/** How long one call keeps being retried while the cluster cannot answer (a leader change takes a few seconds at most). */
const CALL_RETRY_MS = 30_000;

/** An answer of 4xx is the cluster's decision; anything else (no answer, 5xx: no leader, no quorum) may pass. */
function retryable(e: unknown): boolean {
  const status = (e as { data?: { httpStatus?: unknown } } | null)?.data?.httpStatus;
  return typeof status !== 'number' || status >= 500;
}

export class UpgradeDriver {
  private readonly pollMs: number;
  private done: string[];
  private lastDetail = '';

  constructor(
    private readonly plan: UpgradePlan,
    private readonly opts: DriverOptions,
    private readonly m: DriverModules,
  ) {
    this.pollMs = opts.pollMs ?? 200;
    this.done = [...plan.done];
  }

  /** Runs the upgrade to its end; throws UpgradeStopped (after recording `fail`) when a process does not come back. */
  async run(): Promise<void> {
    this.report('');
    for (const id of this.plan.nodes) if (!this.done.includes(id)) await this.guard(id, () => this.upgradeNode(id));
    for (;;) {
      const next = await this.nextCoordinator();
      if (next === undefined) break;
      await this.guard(next, () => this.upgradeCoordinator(next));
    }
    this.m.progress.finish();
  }

  private total(): number {
    return this.plan.nodes.length + this.plan.coordinators.length;
  }

  private report(detail: string): void {
    this.m.progress.update(this.done.length, this.total(), detail);
    if (detail !== '' && detail !== this.lastDetail) this.m.note(detail);
    this.lastDetail = detail;
  }

  /** A call to the cluster, retried through a leader change (every call here is idempotent: a step repeated changes nothing). */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + CALL_RETRY_MS;
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if (!retryable(e) || Date.now() >= deadline) throw e;
        await sleep(this.pollMs);
      }
    }
  }

  private async step(id: string, phase: 'restart' | 'back' | 'done' | 'fail', reason?: string): Promise<void> {
    await this.call(() => this.m.client.upgrade.step.mutate({ to: this.plan.to, id, phase, ...(reason === undefined ? {} : { reason: reason.slice(0, 1_000) }) }));
  }

  private async guard(id: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (e) {
      if (!(e instanceof UpgradeStopped)) throw e;
      this.m.progress.finish();
      await this.step(id, 'fail', e.why);
      throw e;
    }
    this.done.push(id);
    this.report(`${id} runs ${this.plan.to}`);
  }

  /** Polls `check` until it answers a value, or throws UpgradeStopped naming `id` after `timeoutMs`. */
  private async until<T>(id: string, what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        const v = await check();
        if (v !== undefined) return v;
      } catch (e) {
        // A call may fail while the leader changes; the deadline bounds the retries.
        last = e instanceof Error ? e.message : String(e);
      }
      if (Date.now() >= deadline) throw new UpgradeStopped(id, `${what} within ${Math.round(timeoutMs / 1000)} s${last === '' ? '' : ` (last error: ${last})`}`);
      await sleep(this.pollMs);
    }
  }

  private async restart(id: string): Promise<void> {
    const command = restartCommandFor(this.opts.restart, id);
    this.m.say(`${id}: restarting: ${command}`);
    const outcome = await runRestart(command, this.plan.restartTimeoutMs, this.m.writeErr);
    if (!outcome.ok) throw new UpgradeStopped(id, `the restart command failed: ${outcome.why}`);
  }

  private async upgradeNode(id: string): Promise<void> {
    const { client } = this.m;
    const timeoutMs = this.plan.restartTimeoutMs;
    const before = await this.call(() => client.nodes.get.query({ id }));
    if (before.version !== this.plan.to || before.status === 'restarting') {
      this.report(`${id}: handing its primaries over`);
      await this.step(id, 'restart');
      await this.until(id, 'it did not hand its primaries over', timeoutMs, async () => {
        const node = await client.nodes.get.query({ id, consistency: 'stale' });
        return node.shards.some((s) => s.role === 'primary') ? undefined : true;
      });
      await this.restart(id);
      this.report(`${id}: waiting for it to report ${this.plan.to}`);
      await this.until(id, `it did not come back reporting ${this.plan.to}`, timeoutMs, async () => {
        const node = await client.nodes.get.query({ id });
        return node.version === this.plan.to && node.status === 'restarting' ? true : undefined;
      });
      await this.step(id, 'back');
    }
    this.report(`${id}: catching up`);
    await this.until(id, 'its copies did not catch up', timeoutMs, async () => {
      const node = await client.nodes.get.query({ id });
      const behind = node.shards.filter((s) => !s.in_sync).map((s) => s.shard);
      this.report(behind.length === 0 ? `${id}: in sync` : `${id}: ${behind.length} copies catching up`);
      return behind.length === 0 ? true : undefined;
    });
    await this.step(id, 'done');
  }

  /** The next coordinator to upgrade: a follower first, the leader only when it is the last. */
  private async nextCoordinator(): Promise<string | undefined> {
    const left = this.plan.coordinators.filter((id) => !this.done.includes(id));
    if (left.length === 0) return undefined;
    const info = await this.call(() => this.m.client.cluster.info.query({ consistency: 'stale' }));
    return left.find((id) => id !== info.leader) ?? left[0];
  }

  private async upgradeCoordinator(id: string): Promise<void> {
    const { client } = this.m;
    const timeoutMs = this.plan.restartTimeoutMs;
    const { members } = await this.call(() => client.members.list.query());
    const me = members.find((m) => m.id === id);
    if (me === undefined) throw new UpgradeStopped(id, 'it is no longer a member');
    const address = joinAddress(me.host, me.api_port);
    const own = createReplicaClient(address);
    const info = await own.cluster.info.query({ consistency: 'stale' }).catch(() => undefined);
    if (info?.coordinator_version !== this.plan.to) {
      const leader = (await this.call(() => client.cluster.info.query({ consistency: 'stale' }))).leader;
      // A single coordinator has nobody to hand over to: it is restarted as it is (the cluster waits for it).
      if (leader === id && members.length > 1) {
        const to = this.done.find((d) => this.plan.coordinators.includes(d) && members.some((m) => m.id === d && m.role !== 'learner'));
        if (to === undefined) throw new UpgradeStopped(id, 'no upgraded coordinator to hand leadership to');
        this.report(`${id}: handing leadership to ${to}`);
        await this.call(() => client.members.transferLeader.mutate({ to }));
        await this.until(id, `leadership did not move to ${to}`, timeoutMs, async () => {
          const now = await client.cluster.info.query({ consistency: 'stale' });
          return now.leader !== null && now.leader !== id ? true : undefined;
        });
      }
      await this.step(id, 'restart');
      await this.restart(id);
      this.report(`${id}: waiting for it to report ${this.plan.to}`);
    }
    await this.until(id, `it did not come back reporting ${this.plan.to} and caught up`, timeoutMs, async () => {
      const [health, mine] = await Promise.all([own.cluster.health.query(), own.cluster.info.query({ consistency: 'stale' })]);
      if (mine.coordinator_version !== this.plan.to || health.leader === null) return undefined;
      // Caught up: it has applied what the leader had committed when we asked.
      const leader = await client.cluster.info.query({ consistency: 'stale' });
      return health.applied_index >= leader.commit_index - 1 ? true : undefined;
    });
    await this.step(id, 'done');
  }
}
