/**
 * The coordinator leader's calls to data nodes, as a port: the API layer
 * implements it over the node's tRPC router (src/datanode/contract.ts has the
 * same shapes as HandoffRequest/HandoffDone), tests with in-process nodes.
 */
export interface NodeLink {
  /**
   * Asks the primary of `shard` to stop serving it at `epoch` (a planned
   * handover): it finishes the batch in flight, refuses everything after, and
   * answers with its last seq, and whether every write it stored reached every
   * in-sync replica (`caughtUp`; absent from an older node: not known).
   * Rejects when the node cannot be reached in time.
   */
  handoff(address: string, req: { readonly shard: number; readonly epoch: number }, timeoutMs: number): Promise<{ readonly lastSeq: number; readonly caughtUp?: boolean }>;
  /**
   * The node's own `GET /health` (the contract's DataNodeHealth), for the
   * health monitor. Rejects when the node does not answer within `timeoutMs`
   * or answers something else.
   */
  probe(address: string, timeoutMs: number): Promise<NodeProbe>;
}

/** The contract's DataNodeHealth, restated (src/coordinator may not import src/datanode; the API checks they agree). */
export interface NodeProbe {
  readonly status: 'ok' | 'starting' | 'draining';
  readonly id: string;
  readonly lease: {
    readonly valid: boolean;
    readonly remainingMs: number;
    readonly leader: string | null;
    readonly term: number | null;
  };
}
