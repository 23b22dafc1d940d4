/**
 * The faults of the system simulation, drawn from the seed step by step:
 * replica crashes (unsynced writes lost), pauses, slow disks, partitions
 * (also the leader from one replica only), leadership transfers, and the
 * data nodes' faults (crashes, pauses, cuts from some replicas or from the
 * leader only, lost renewals); then healing, when everything is made whole.
 */
import { STEP_MS } from './profile.js';
import type { Proc, SystemSimulator } from './system-sim.js';

type Cut = { links: [string, string][]; healStep: number };

export class Faults {
  /** Link cuts between replicas and when they heal. */
  private cuts: Cut[] = [];

  constructor(private readonly sim: SystemSimulator) {}

  injectFaults(): void {
    const pr = this.sim.profile;
    const rng = this.sim.rng;
    const alive = this.sim.procs.filter((p) => p.alive);
    if (rng.chance(pr.crashRate) && alive.length > 0) {
      const p = rng.pick(alive);
      this.sim.kill(p);
      p.restartAtStep = this.sim.step + 10 + rng.int(rng.chance(0.5) ? 40 : 400);
      this.sim.stats.crashes++;
      this.sim.note(`crash ${p.id} (restarts at ${p.restartAtStep * STEP_MS} ms)`);
    }
    if (rng.chance(pr.pauseRate) && alive.length > 0) {
      const p = rng.pick(alive);
      p.pausedUntilStep = this.sim.step + 10 + rng.int(300);
      this.sim.stats.pauses++;
      this.sim.note(`pause ${p.id} until ${p.pausedUntilStep * STEP_MS} ms`);
    }
    if (rng.chance(pr.slowDiskRate) && alive.length > 0) {
      const p = rng.pick(alive);
      p.slowDiskUntilStep = this.sim.step + 20 + rng.int(400);
      this.sim.note(`slow disk ${p.id} until ${p.slowDiskUntilStep * STEP_MS} ms`);
    }
    if (rng.chance(pr.partitionRate)) this.partition();
    if (rng.chance(pr.nodeFaultRate) && this.sim.dataNodes.size > 0) this.nodeFault();
    for (const [k, at] of this.sim.nodeCuts) if (at <= this.sim.step) (this.sim.nodeCuts.delete(k), this.sim.note(`heal ${k.replace('|', ' <-> ')}`));
    for (const c of this.cuts.filter((c) => c.healStep <= this.sim.step)) this.healCut(c);
    if (rng.chance(pr.transferRate)) this.transfer();
  }

  partition(): void {
    const rng = this.sim.rng;
    const links: [string, string][] = [];
    const leader = this.sim.leader();
    if (leader && rng.chance(0.4)) {
      // The leader loses one replica only; everyone else still reaches both.
      const other = rng.pick(this.sim.ids.filter((id) => id !== leader.id));
      links.push([leader.id, other], [other, leader.id]);
      this.sim.note(`cut ${leader.id} <-> ${other} (leader from one replica)`);
    } else {
      const shuffled = this.sim.ids.map((id) => ({ id, k: rng.float() })).sort((a, b) => a.k - b.k).map((x) => x.id);
      const minority = shuffled.slice(0, 1 + rng.int(Math.floor((this.sim.ids.length - 1) / 2)));
      for (const a of minority) for (const b of this.sim.ids) if (!minority.includes(b)) links.push([a, b], [b, a]);
      this.sim.note(`partition {${minority.join(',')}} from the rest`);
    }
    for (const [a, b] of links) this.sim.network.cutLink(a, b);
    this.cuts.push({ links, healStep: this.sim.step + 20 + rng.int(600) });
    this.sim.stats.partitions++;
  }

  /** A data node crashes for a while, or loses the leader only, or a minority or majority of the replicas. */
  nodeFault(): void {
    const rng = this.sim.rng;
    const n = rng.pick([...this.sim.dataNodes.values()]);
    // 0: the node crashes; 1: it loses the leader only; 2: some replicas; 3: it pauses; 4: it loses the leader and
    // its renewals are lost, while the other replicas still reach it (the case confirmations are for).
    const kind = rng.pick([0, 1, 1, 2, 3, 3, 4, 4]);
    const untilStep = this.sim.step + 20 + rng.int(1_000);
    if (kind === 3) {
      // A primary stops for long enough to be replaced (its renewal may be in flight): what fencing is for.
      const primaries = this.sim.leader()?.replica?.status() ? this.primariesOf(this.sim.leader()!) : [];
      const target = primaries.length > 0 ? rng.pick(primaries) : n.id;
      const until = (this.sim.step + 400 + rng.int(800)) * STEP_MS;
      this.sim.leases.pause(target, until);
      this.sim.note(`node ${target} paused until ${until} ms`);
      return;
    }
    if (kind === 0) {
      n.downUntilStep = untilStep;
      this.sim.leases.down(n.id);
      this.sim.stats.nodeCrashes++;
      this.sim.note(`node ${n.id} down until ${untilStep * STEP_MS} ms`);
      return;
    }
    const leader = this.sim.leader();
    const leaderOnly = (kind === 1 || kind === 4) && leader !== undefined;
    // A node the leader loses is most often a primary: its shards' moves then wait on fencing without a handoff.
    const primaries = leaderOnly ? this.primariesOf(leader) : [];
    const id = leaderOnly && primaries.length > 0 && rng.chance(0.7) ? rng.pick(primaries) : n.id;
    if (kind === 4) this.sim.leases.mute(id, untilStep * STEP_MS);
    const from = leaderOnly ? [leader.id] : this.sim.ids.filter(() => rng.chance(0.5));
    for (const r of from) this.sim.nodeCuts.set(`${r}|${id}`, untilStep);
    this.sim.stats.nodeCuts++;
    this.sim.note(`cut ${id} from ${from.join(',') || 'nobody'}${leaderOnly ? ' (the leader only)' : ''}${kind === 4 ? ', its renewals lost' : ''} until ${untilStep * STEP_MS} ms`);
    // An operator who sees a node misbehave may take it out of service right then.
    if (leaderOnly && rng.chance(Math.min(1, this.sim.profile.adminRate * 150))) this.sim.admin.reactToCut(id);
  }

  /** The primaries in the last table `p` checked. */
  primariesOf(p: Proc): string[] {
    const state = this.sim.checks.lastState.get(p.id);
    return state ? [...new Set(state.shards.map((sh) => sh.primary).filter((x): x is string => x !== null))].sort() : [];
  }

  healCut(c: Cut): void {
    this.cuts = this.cuts.filter((x) => x !== c);
    this.sim.network.healAll();
    for (const other of this.cuts) for (const [a, b] of other.links) this.sim.network.cutLink(a, b);
    this.sim.note(`heal ${c.links.map(([a, b]) => `${a}>${b}`).join(' ')}`);
  }

  transfer(): void {
    const leader = this.sim.leader();
    if (!leader?.replica) return;
    const to = this.sim.rng.pick(this.sim.ids.filter((id) => id !== leader.id));
    this.sim.stats.transfers++;
    this.sim.note(`transfer ${leader.id} -> ${to}`);
    leader.replica.transferLeadership(to, 1_000).catch(() => undefined);
  }

  heal(): void {
    this.sim.healed = true;
    this.cuts = [];
    this.sim.nodeCuts.clear();
    for (const n of this.sim.dataNodes.values()) n.downUntilStep = 0;
    this.sim.leases.resumeAll();
    this.sim.network.healAll();
    this.sim.network.faults = { dropRate: 0, duplicateRate: 0, maxDelayTicks: 1, fifo: false };
    for (const p of this.sim.procs) {
      p.pausedUntilStep = 0;
      p.slowDiskUntilStep = 0;
      if (!p.alive) p.restartAtStep = this.sim.step;
    }
    this.sim.note('heal everything');
  }
}
