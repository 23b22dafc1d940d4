/**
 * Runs the schedule against the cluster: each lane's faults one after the
 * other at their scheduled times (later when the previous one healed late),
 * the targets resolved by role when a fault starts (who leads then), each
 * healed after its time; admin operations in their own lane. Everything it
 * did lands in the timeline. `stop()` ends the lanes and heals whatever is
 * still active.
 */
import { parseJson } from '../bench/http.js';
import { log } from '../launch/log.js';
import { sleep } from '../launch/wait-for.js';
import type { ChaosCluster } from './cluster.js';
import type { Cut, Firewall } from './firewall.js';
import type { AdminEvent, FaultEvent, Schedule } from './schedule.js';

export interface TimelineEntry {
  readonly n: number;
  readonly kind: string;
  /** What it hit, as resolved at its start ('' when skipped). */
  target: string;
  /** The leader when it started (for failover durations). */
  leaderBefore: string | undefined;
  startedAtMs: number;
  healedAtMs: number | undefined;
  /** Why it was skipped or what went wrong; '' when it ran as planned. */
  note: string;
  skipped: boolean;
}

export interface AdminEntry {
  readonly kind: string;
  readonly atMs: number;
  target: string;
  result: string;
}

/** Waiting for a leader before a fault aimed at it. */
const LEADER_WAIT_MS = 10_000;
/** A drain moves a node's copies away; it has this long to reach `left`. */
const DRAIN_WAIT_MS = 30_000;

interface Active {
  readonly entry: TimelineEntry;
  heal: () => Promise<void>;
  /** It healed itself (a drain and restart): the lane goes on at once. */
  readonly selfHealed?: boolean;
}

export class FaultRunner {
  readonly timeline: TimelineEntry[] = [];
  readonly adminLog: AdminEntry[] = [];
  private stopped = false;
  private readonly active = new Set<Active>();
  private lanes: Promise<void>[] = [];
  private readonly wake = new Set<() => void>();
  private configToggle = false;

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly firewall: Firewall | undefined,
    private readonly schedule: Schedule,
    private readonly clock: () => number,
  ) {}

  start(): void {
    for (const lane of ['coordinator', 'node'] as const) this.lanes.push(this.runLane(this.schedule.faults.filter((f) => f.lane === lane)));
    this.lanes.push(this.runAdmin(this.schedule.admin));
  }

  activeFaults(): string[] {
    return [...this.active].map((a) => `${a.entry.kind} ${a.entry.target}`);
  }

  /** Ends every lane and heals what is active: no rule and no stopped or killed process remains. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.wake) w();
    await Promise.all(this.lanes);
    for (const a of [...this.active]) await this.finish(a);
    // Whatever a failed heal left behind.
    if (this.firewall !== undefined) for (const e of this.firewall.healAll()) log(`chaos: ${e}`);
    for (const m of [...this.cluster.coordinators, ...this.cluster.nodes]) await this.cluster.heal(m.id);
  }

  /** Sleeps until `atMs` of the run, or until stopped; false when stopped. */
  private async until(atMs: number): Promise<boolean> {
    while (!this.stopped && this.clock() < atMs) {
      await new Promise<void>((resolve) => {
        const w = () => resolve();
        this.wake.add(w);
        setTimeout(() => {
          this.wake.delete(w);
          resolve();
        }, Math.min(1_000, Math.max(1, atMs - this.clock())));
      });
    }
    return !this.stopped;
  }

  private async runLane(events: readonly FaultEvent[]): Promise<void> {
    for (const f of events) {
      if (!(await this.until(f.atMs))) return;
      const entry: TimelineEntry = { n: f.n, kind: f.kind, target: '', leaderBefore: undefined, startedAtMs: this.clock(), healedAtMs: undefined, note: '', skipped: false };
      this.timeline.push(entry);
      let a: Active | undefined;
      try {
        a = await this.inject(f, entry);
      } catch (e) {
        entry.note = `inject failed: ${(e as Error).message.split('\n')[0]}`;
      }
      if (a === undefined) {
        entry.skipped = true;
        entry.healedAtMs = this.clock();
        continue;
      }
      this.active.add(a);
      if (a.selfHealed !== true) await this.until(entry.startedAtMs + f.healAfterMs);
      await this.finish(a);
    }
  }

  private async finish(a: Active): Promise<void> {
    if (!this.active.has(a)) return;
    this.active.delete(a);
    try {
      await a.heal();
    } catch (e) {
      a.entry.note += `${a.entry.note ? '; ' : ''}heal failed: ${(e as Error).message.split('\n')[0]}`;
      // The end of the run heals everything again.
    }
    a.entry.healedAtMs = this.clock();
  }

  private async leaderNow(): Promise<{ id: string; term: number } | undefined> {
    const deadline = this.clock() + LEADER_WAIT_MS;
    while (!this.stopped && this.clock() < deadline) {
      const l = await this.cluster.leader();
      if (l !== undefined) return l;
      await sleep(50);
    }
    return undefined;
  }

  private followersOf(leader: string): string[] {
    return this.cluster.coordinators.map((c) => c.id).filter((id) => id !== leader).sort();
  }

  private cutHeal(cut: Cut): () => Promise<void> {
    return async () => {
      const errors = this.firewall!.heal(cut);
      if (errors.length > 0) throw new Error(errors.join('; '));
    };
  }

  /** Starts the fault; undefined when it cannot run now (the reason in the entry's note). */
  private async inject(f: FaultEvent, entry: TimelineEntry): Promise<Active | undefined> {
    const c = this.cluster;
    if (f.lane === 'coordinator') {
      const leader = await this.leaderNow();
      if (leader === undefined) {
        entry.note = `no leader within ${LEADER_WAIT_MS / 1000} s`;
        return undefined;
      }
      entry.leaderBefore = leader.id;
      const follower = this.followersOf(leader.id)[f.pick % 2]!;
      const needsFirewall = f.kind === 'isolate-leader' || f.kind === 'isolate-follower' || f.kind === 'asymmetric';
      if (needsFirewall && this.firewall === undefined) {
        entry.note = 'no partitions in this run';
        return undefined;
      }
      const target = f.kind.endsWith('leader') ? leader.id : follower;
      entry.target = f.kind === 'asymmetric' ? `${leader.id}→${follower} dropped` : target;
      entry.startedAtMs = this.clock();
      switch (f.kind) {
        case 'kill-leader':
        case 'kill-follower':
          await c.kill(target);
          return { entry, heal: () => c.heal(target) };
        case 'stop-leader':
        case 'stop-follower':
          await c.pause(target);
          return { entry, heal: () => c.heal(target) };
        case 'isolate-leader':
        case 'isolate-follower': {
          const cut: Cut = { rules: [] };
          for (const other of this.followersOf(target)) this.firewall!.dropBoth(c.endpoint(target), c.endpoint(other), cut);
          return { entry, heal: this.cutHeal(cut) };
        }
        case 'asymmetric':
          return { entry, heal: this.cutHeal(this.firewall!.dropOneWay(c.endpoint(leader.id), c.endpoint(follower))) };
        default:
          throw new Error(`not a coordinator fault: ${f.kind}`);
      }
    }
    const node = c.nodes[f.pick % c.nodes.length]!.id;
    entry.target = node;
    entry.leaderBefore = (await c.leader())?.id;
    entry.startedAtMs = this.clock();
    switch (f.kind) {
      case 'kill-node':
        await c.kill(node);
        return { entry, heal: () => c.heal(node) };
      case 'stop-node':
        await c.pause(node);
        return { entry, heal: () => c.heal(node) };
      case 'cut-node-coordinators':
      case 'cut-node-peers': {
        if (this.firewall === undefined) {
          entry.note = 'no partitions in this run';
          return undefined;
        }
        const cut: Cut = { rules: [] };
        const others = f.kind === 'cut-node-coordinators' ? c.coordinators : c.nodes.filter((n) => n.id !== node);
        for (const o of others) this.firewall.dropBoth(c.endpoint(node), c.endpoint(o.id), cut);
        return { entry, heal: this.cutHeal(cut) };
      }
      case 'drain-restart':
        return this.drainRestart(node, entry);
      default:
        throw new Error(`not a data-node fault: ${f.kind}`);
    }
  }

  /**
   * Drains `node` (its copies move to the others), waits until it has left,
   * kills it and starts it again: it comes back as a new registration. Only
   * with room: RF 2 needs two other healthy nodes.
   */
  private async drainRestart(node: string, entry: TimelineEntry): Promise<Active | undefined> {
    const c = this.cluster;
    const nodes = await c.nodeList();
    // `unknown`: registered and serving, not yet probed (the health monitor marks it healthy once it runs).
    const serving = (id: string) => c.stateOf(id) === 'running' && ['unknown', 'healthy'].includes(nodes?.find((n) => n.id === id)?.status ?? '');
    const others = c.nodes.filter((n) => n.id !== node && serving(n.id));
    if (nodes === undefined || others.length < 2 || !serving(node)) {
      entry.note = `no room to drain ${node} (${(nodes ?? []).map((n) => `${n.id}:${n.status}`).join(' ') || 'no node list'})`;
      return undefined;
    }
    const leader = await this.leaderNow();
    const answer = await c.call(leader?.id ?? c.coordinators[0]!.id, 'POST', `/nodes/${node}/drain`, { reason: 'chaos: drain and restart' });
    if (answer.status !== 200) {
      entry.note = `drain refused: ${answer.status} ${answer.text.slice(0, 120)}`;
      return undefined;
    }
    const deadline = this.clock() + DRAIN_WAIT_MS;
    let status = 'draining';
    while (!this.stopped && this.clock() < deadline) {
      status = (await c.nodeList())?.find((n) => n.id === node)?.status ?? status;
      if (status === 'left') break;
      await sleep(200);
    }
    entry.note = status === 'left' ? `left after ${((this.clock() - entry.startedAtMs) / 1000).toFixed(1)} s, restarted` : `still ${status} after ${DRAIN_WAIT_MS / 1000} s, restarted`;
    await c.kill(node);
    await c.heal(node);
    return { entry, heal: () => c.heal(node), selfHealed: true };
  }

  private async runAdmin(events: readonly AdminEvent[]): Promise<void> {
    for (const a of events) {
      if (!(await this.until(a.atMs))) return;
      const entry: AdminEntry = { kind: a.kind, atMs: this.clock(), target: '', result: '' };
      this.adminLog.push(entry);
      const leader = await this.cluster.leader();
      if (leader === undefined) {
        entry.result = 'skipped: no leader';
        continue;
      }
      if (a.kind === 'transfer-leader') {
        const to = this.followersOf(leader.id)[a.pick % 2]!;
        entry.target = `${leader.id}→${to}`;
        const r = await this.cluster.call(leader.id, 'POST', '/cluster/leader/transfer', { to }, 10_000);
        entry.result = r.status === 200 ? 'ok' : `${r.status} ${r.text.slice(0, 120)}`;
      } else {
        const cfg = parseJson((await this.cluster.call(leader.id, 'GET', '/cluster/config', undefined)).text) as { version?: number } | undefined;
        if (typeof cfg?.version !== 'number') {
          entry.result = 'skipped: no config read';
          continue;
        }
        this.configToggle = !this.configToggle;
        const maxConcurrentPerCluster = this.configToggle ? 6 : 4;
        entry.target = `v${cfg.version}: recovery.maxConcurrentPerCluster=${maxConcurrentPerCluster}`;
        const body = { expectedVersion: cfg.version, settings: { recovery: { maxConcurrentPerCluster } }, reason: 'chaos: config change' };
        const r = await this.cluster.call(leader.id, 'PUT', '/cluster/config', body, 10_000);
        entry.result = r.status === 200 ? 'ok' : `${r.status} ${r.text.slice(0, 120)}`;
      }
    }
  }
}
