/**
 * One lock per shard id for the writes to its local copy: a batch, a
 * recovery page, a wipe or a drop of the copy never interleave. Kept per id
 * (not per copy object) so that a copy dropped and re-created at once still
 * waits for the drop to finish. At most one lock per shard of the cluster.
 */
export class ShardLocks {
  private readonly tails = new Map<number, Promise<unknown>>();

  run<T>(shard: number, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(shard) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.tails.set(
      shard,
      next.catch(() => undefined),
    );
    return next;
  }

  /** Resolves once every write queued so far has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }
}
