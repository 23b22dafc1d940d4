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
 * the old leader's reads had not yet voted for the new one).
 */
export class LeaseTable {
  /** When this replica became leader; null while it is not leader (it then fences nothing). */
  private leaderSinceMs: number | null = null;
  private readonly grantedUntilMs = new Map<string, number>();
  /** When each node's latest renewal was received: the health monitor's proof of life. */
  private readonly receivedMs = new Map<string, number>();

  /** This replica won an election at `atMs`: what it knew of leases belongs to an older term. */
  becameLeader(atMs: number): void {
    this.grantedUntilMs.clear();
    this.receivedMs.clear();
    this.leaderSinceMs = atMs;
  }

  /** Leadership lost: grants are the next leader's business, and it starts from nothing. */
  reset(): void {
    this.grantedUntilMs.clear();
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
    return Math.max(this.grantedUntilMs.get(nodeId) ?? Number.NEGATIVE_INFINITY, this.leaderSinceMs + leaseMs);
  }
}
