/**
 * Which replica the next attempt goes to. The leader when one is known.
 * Without one, a read goes to any replica that answers (reads are served
 * by every replica: linearizable ones through ReadIndex, which fails fast
 * without a leader, stale ones from the local table). A write waits for a
 * leader instead: a follower would forward it through Raft to the leader it
 * last knew, and a proposal forwarded to a leader that just died is only
 * given up by the replica's proposal timeout, seconds later. The exception
 * is a leader that the followers still follow but this client cannot reach
 * (a partition on the client's side): after a grace period writes go
 * through a follower.
 *
 * The leader is found by asking every known replica for its own health, in
 * parallel, and trusting only a replica that says itself that it leads.
 */
import { sleep } from '../common/backoff.js';
import { leaderOf, type ReplicaProbe } from './probe.js';

export interface LeaderTrackerDeps {
  /** One replica's health; never throws. */
  probe(address: string): Promise<ReplicaProbe>;
  /** Where replica `leaderId`'s API is, asked of the replica at `via` (for a leader outside the configured list). */
  lookUpAddress(via: string, leaderId: string): Promise<string | undefined>;
  now(): number;
}

export interface KnownLeader {
  readonly address: string;
  readonly id: string | undefined;
  readonly term: number | undefined;
}

type Answered = Extract<ReplicaProbe, { ok: true }>;

/**
 * How long a replica that just failed an attempt is passed over while
 * another answers. A leader cut off from its followers, or hung behind a
 * stuck disk, still answers its health locally and claims to lead: without
 * this, every retry would go straight back to it.
 */
export const FAILED_REPLICA_PENALTY_MS = 1_000;

/**
 * How long followers may name a leader this client cannot reach before
 * writes go through them. A crashed leader is noticed by its followers
 * within a heartbeat or two; one still followed after this is alive for
 * them and only out of this client's reach.
 */
export const UNREACHABLE_LEADER_GRACE_MS = 1_000;

/** Resolves at the first probe that is `enough` (a leader worth going to), or once every probe settled. */
function firstOrAll(probes: readonly Promise<ReplicaProbe>[], enough: (p: ReplicaProbe) => boolean): Promise<ReplicaProbe[]> {
  return new Promise((resolve) => {
    const results: ReplicaProbe[] = [];
    let pending = probes.length;
    if (pending === 0) resolve(results);
    for (const p of probes) {
      void p.then((r) => {
        results.push(r);
        pending--;
        if (enough(r) || pending === 0) resolve(results);
      });
    }
  });
}

export class LeaderTracker {
  private readonly addresses: string[];
  private readonly failedAtMs = new Map<string, number>();
  private leader: (KnownLeader & { readonly sinceMs: number }) | undefined;
  /** With no leader known: the replica that answered last (reads go there). */
  private answering: string | undefined;
  /** With no leader known: a follower writes may go through (see UNREACHABLE_LEADER_GRACE_MS), if any. */
  private writeVia: string | undefined;
  /** Since when the followers name a leader this client cannot reach, by leader id. */
  private readonly unreachableSinceMs = new Map<string, number>();
  private why = 'no replica answered yet';
  private rotation = 0;
  private discovering: Promise<void> | undefined;

  constructor(
    addresses: readonly string[],
    private readonly recheckMs: number,
    private readonly deps: LeaderTrackerDeps,
  ) {
    this.addresses = [...addresses];
  }

  /** The leader as last found, if any. */
  knownLeader(): KnownLeader | undefined {
    return this.leader === undefined ? undefined : { address: this.leader.address, id: this.leader.id, term: this.leader.term };
  }

  /** Every address the client knows, the configured ones first. */
  knownAddresses(): readonly string[] {
    return this.addresses;
  }

  /** Why the last look found no leader, in words. */
  noLeaderReason(): string {
    return this.why;
  }

  /** Where the next read goes. Looks for the leader first when none is known. */
  async target(): Promise<string> {
    if (this.leader !== undefined) {
      // Still answering, but maybe no longer leading (a transfer): check in the background, keep going meanwhile.
      if (this.deps.now() - this.leader.sinceMs >= this.recheckMs) void this.discover();
      return this.leader.address;
    }
    await this.discover();
    return this.knownLeader()?.address ?? this.answering ?? this.nextInRotation();
  }

  /**
   * Where the next write goes, or undefined when it should wait and look
   * again (replicas answer, none leads). With nothing answering at all it
   * still names one: that attempt fails fast, with the real reason.
   */
  async writeTarget(): Promise<string | undefined> {
    const address = await this.target();
    if (this.leader !== undefined || this.answering === undefined) return address;
    return this.writeVia;
  }

  /**
   * A write's backoff: waits up to `ms`, looking for a leader every
   * `pollMs`, and ends early once one is known, so a write resumes within
   * a poll of the election's end rather than at the end of a long backoff.
   * The health probes it sends are answered locally by each replica.
   */
  async awaitLeader(ms: number, pollMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = this.deps.now() + ms;
    for (;;) {
      const left = deadline - this.deps.now();
      if (left <= 0) return;
      await sleep(Math.min(pollMs, left), signal);
      if (this.knownLeader() !== undefined) return;
      await this.discover();
      if (this.knownLeader() !== undefined) return;
    }
  }

  /** Every known address, the one `target()` would pick first: the order a connection tries them in. */
  async order(): Promise<string[]> {
    const first = await this.target();
    return [first, ...this.addresses.filter((a) => a !== first)];
  }

  succeeded(address: string): void {
    if (this.leader === undefined) this.answering = address;
  }

  /** The replica could not serve: not the one to go to next. */
  failed(address: string): void {
    this.failedAtMs.set(address, this.deps.now());
    if (this.leader?.address === address) this.leader = undefined;
    if (this.answering === address) this.answering = undefined;
    if (this.writeVia === address) this.writeVia = undefined;
    const i = this.addresses.indexOf(address);
    if (i >= 0) this.rotation = i + 1;
  }

  /** A NOT_LEADER answer named the leader. */
  redirected(address: string, id: string | undefined): void {
    this.learn(address);
    this.leader = { address, id, term: undefined, sinceMs: this.deps.now() };
  }

  private learn(address: string): void {
    if (!this.addresses.includes(address)) this.addresses.push(address);
  }

  private nextInRotation(): string {
    const address = this.addresses[this.rotation % this.addresses.length] as string;
    this.rotation = (this.rotation + 1) % this.addresses.length;
    return address;
  }

  /** Concurrent calls that all miss the leader share one discovery. */
  private discover(): Promise<void> {
    this.discovering ??= this.runDiscovery().finally(() => {
      this.discovering = undefined;
    });
    return this.discovering;
  }

  private penalized(address: string): boolean {
    const at = this.failedAtMs.get(address);
    return at !== undefined && this.deps.now() - at < FAILED_REPLICA_PENALTY_MS;
  }

  /** The probes that answered, those that did not fail an attempt just now first (the others only if none is left). */
  private preferred(probes: readonly ReplicaProbe[]): Answered[] {
    const answered = probes.filter((p): p is Answered => p.ok);
    const fresh = answered.filter((p) => !this.penalized(p.address));
    return fresh.length > 0 ? fresh : answered;
  }

  private async runDiscovery(): Promise<void> {
    const probes = await firstOrAll(
      this.addresses.map((a) => this.deps.probe(a)),
      (p) => p.ok && p.health.role === 'leader' && !this.penalized(p.address),
    );
    const answered = this.preferred(probes);
    if (this.adoptLeader(answered)) return;
    const kept = this.leader;
    if (kept !== undefined && answered.some((p) => p.address === kept.address)) {
      // A background recheck that found no one leading: keep the replica we had, it still answers.
      this.leader = { ...kept, sinceMs: this.deps.now() };
      return;
    }
    this.leader = undefined;
    this.writeVia = undefined;
    if (this.answering === undefined || !answered.some((p) => p.address === this.answering)) {
      this.answering = this.addresses.find((a) => answered.some((p) => p.address === a));
    }
    if (answered.length === 0) {
      this.why = 'no replica answers';
      return;
    }
    const who = answered.map((p) => p.health.id).join(', ');
    const naming = answered.filter((p) => p.health.leader !== null).sort((a, b) => b.health.term - a.health.term)[0];
    const leaderId = naming?.health.leader ?? null;
    if (naming === undefined || leaderId === null) {
      this.why = `no leader (answering: ${who}; none knows a leader, election running?)`;
      return;
    }
    if (answered.some((p) => p.health.id === leaderId)) {
      this.why = `no leader (answering: ${who}; ${leaderId} is named but does not say it leads, leadership changing?)`;
      return;
    }
    // A leader outside the configured list (added since): ask where it is.
    const address = await this.deps.lookUpAddress(naming.address, leaderId).catch(() => undefined);
    if (address !== undefined && !this.addresses.includes(address)) {
      const probe = await this.deps.probe(address);
      if (probe.ok) this.learn(address);
      if (this.adoptLeader([probe])) return;
    }
    const since = this.unreachableSinceMs.get(leaderId) ?? this.deps.now();
    this.unreachableSinceMs.set(leaderId, since);
    if (this.deps.now() - since >= UNREACHABLE_LEADER_GRACE_MS) this.writeVia = naming.address;
    this.why = `no leader reachable (answering: ${who}; they follow ${leaderId}, which does not answer this client)`;
  }

  private adoptLeader(probes: readonly ReplicaProbe[]): boolean {
    const found = leaderOf(probes);
    if (found === undefined) return false;
    this.leader = { ...found, sinceMs: this.deps.now() };
    this.answering = undefined;
    this.writeVia = undefined;
    this.unreachableSinceMs.clear();
    return true;
  }
}
