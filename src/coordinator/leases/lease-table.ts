/**
 * The leader's record of the leases it granted to data nodes (DESIGN.md §5,
 * §6): pure arithmetic, no clock of its own, in memory only. It answers one
 * question for the placement driver: from when on is a node certainly not
 * serving under a lease, so that one of its shards may get another primary.
 *
 * A lease runs from when the node *sent* its renewal; the leader counts from
 * when it *received* it, which is later, so the leader's view of a lease ends
 * no earlier than the node's. A new leader does not know what its
 * predecessors granted (they told nobody), so it treats every node as holding
 * a lease until one lease period after its own election: every grant of an
 * older leader was received before that election (the quorum that confirmed
 * the old leader's reads had not yet voted for the new one). Only giving a
 * shard another primary waits for that; a new leader GRANTS at once.
 *
 * Every bound carries a margin for clocks that run at slightly different
 * rates (a lease is a duration on two clocks, never a shared instant).
 *
 * A node found fenced for a demotion gets no grant until the demotion
 * settled (see markDemoting): a renewal read before the demotion committed
 * would otherwise hand it a fresh lease on the old assignment.
 */

/** Clock-rate margin: a fiftieth of the lease (20 ms at the default 1 s), at least 5 ms. */
export function driftMarginMs(leaseMs: number): number {
  return Math.max(5, Math.ceil(leaseMs / 50));
}

export class LeaseTable {
  /** When this replica became leader; null while it is not leader (it then fences nothing). */
  private leaderSinceMs: number | null = null;
  private readonly grantedUntilMs = new Map<string, number>();
  /** Renewals received and not yet answered, per node: each may still become a grant counted from its receipt. */
  private readonly inFlight = new Map<string, Set<{ readonly untilMs: number }>>();
  /** Per node, the shards it is being demoted from and the epoch each demotion was planned at. */
  private readonly demoting = new Map<string, Map<number, number>>();
  /** When each node's latest renewal was received: the health monitor's proof of life. */
  private readonly receivedMs = new Map<string, number>();

  /** This replica won an election at `atMs`: what it knew of leases belongs to an older term. */
  becameLeader(atMs: number): void {
    this.grantedUntilMs.clear();
    this.inFlight.clear();
    this.demoting.clear();
    this.receivedMs.clear();
    this.leaderSinceMs = atMs;
  }

  /**
   * Leadership lost: grants are the next leader's business, and it starts
   * from nothing. A demotion this replica proposed either is in the next
   * leader's log, and committed before that leader answers any read, or is
   * gone: its grants read a table that settles it.
   */
  reset(): void {
    this.grantedUntilMs.clear();
    this.inFlight.clear();
    this.demoting.clear();
    this.receivedMs.clear();
    this.leaderSinceMs = null;
  }

  get isLeader(): boolean {
    return this.leaderSinceMs !== null;
  }

  /**
   * Records a grant; returns until when the node holds it. Ignored (returns
   * undefined) while not leader: the grant still ends within a lease of its
   * receipt, which was before any later election of this replica.
   */
  grant(nodeId: string, receivedAtMs: number, leaseMs: number): number | undefined {
    if (this.leaderSinceMs === null) return undefined;
    if (receivedAtMs > (this.receivedMs.get(nodeId) ?? Number.NEGATIVE_INFINITY)) this.receivedMs.set(nodeId, receivedAtMs);
    const until = receivedAtMs + leaseMs;
    // A delayed renewal answered after a later one must not shorten the record.
    const known = this.grantedUntilMs.get(nodeId);
    if (known === undefined || until > known) this.grantedUntilMs.set(nodeId, until);
    return Math.max(until, known ?? until);
  }

  /** When this leader last received a renewal from `nodeId` (read only; undefined: none in this reign). */
  renewedAtMs(nodeId: string): number | undefined {
    return this.receivedMs.get(nodeId);
  }

  /**
   * The earliest time at which `nodeId` is certainly not serving under a
   * lease: the end of its last grant, but never before one lease after this
   * replica's election. Infinity while not leader (this replica cannot know).
   * `leaseMs` is the current setting.
   */
  fencedAtMs(nodeId: string, leaseMs: number): number {
    if (this.leaderSinceMs === null) return Number.POSITIVE_INFINITY;
    let until = Math.max(this.grantedUntilMs.get(nodeId) ?? Number.NEGATIVE_INFINITY, this.leaderSinceMs + leaseMs);
    for (const r of this.inFlight.get(nodeId) ?? []) until = Math.max(until, r.untilMs);
    return until + driftMarginMs(leaseMs);
  }

  /**
   * A renewal of `nodeId` arrived at `receivedAtMs` and is being checked
   * (ReadIndex): until `done` is called it counts as a grant, so that a
   * demotion decided meanwhile waits for the lease it may yet become.
   */
  renewing(nodeId: string, receivedAtMs: number, leaseMs: number): { done(): void } {
    const entry = { untilMs: receivedAtMs + leaseMs };
    let set = this.inFlight.get(nodeId);
    if (set === undefined) this.inFlight.set(nodeId, (set = new Set()));
    set.add(entry);
    const table = this.inFlight;
    return {
      done() {
        const current = table.get(nodeId);
        if (current === undefined) return;
        current.delete(entry);
        if (current.size === 0) table.delete(nodeId);
      },
    };
  }

  /**
   * The leader found `nodeId` fenced (it handed off, or its lease ran out)
   * and proposes to give `shard` (at `epoch`) another primary: no grant to
   * that node until the table shows the shard past that epoch (settle) or
   * the step was refused (release). Ignored while not leader.
   */
  markDemoting(nodeId: string, shard: number, epoch: number): void {
    if (this.leaderSinceMs === null) return;
    let marks = this.demoting.get(nodeId);
    if (marks === undefined) this.demoting.set(nodeId, (marks = new Map()));
    marks.set(shard, epoch);
  }

  /** The step planned at `epoch` will not commit (refused): the node may be granted again. */
  releaseDemoting(nodeId: string, shard: number, epoch: number): void {
    const marks = this.demoting.get(nodeId);
    if (marks?.get(shard) !== epoch) return;
    marks.delete(shard);
    if (marks.size === 0) this.demoting.delete(nodeId);
  }

  /**
   * The demotions of `nodeId` still pending in a table read after the
   * renewal arrived: `epochOf(shard)` is the shard's epoch in it and
   * `primaryOf(shard)` its primary. A shard past the marked epoch, or no
   * longer led by the node, has settled and is forgotten.
   */
  pendingDemotions(nodeId: string, epochOf: (shard: number) => number | undefined, primaryOf: (shard: number) => string | null | undefined): number[] {
    const marks = this.demoting.get(nodeId);
    if (marks === undefined) return [];
    for (const [shard, epoch] of [...marks]) {
      const now = epochOf(shard);
      if (now === undefined || now !== epoch || primaryOf(shard) !== nodeId) marks.delete(shard);
    }
    if (marks.size === 0) this.demoting.delete(nodeId);
    return [...marks.keys()];
  }
}
