/**
 * The leader asking another coordinator replica to probe a node itself
 * (DESIGN.md §5), as a port: the API layer implements it over the replica's
 * `health.confirm` procedure, tests in process.
 */
export interface ConfirmRequest {
  readonly nodeId: string;
  /** The node's address as the leader's table has it; a replica whose table says otherwise refuses (CONFLICT). */
  readonly address: string;
}

/** `reachable: false` confirms the leader's suspicion; `error` says what the replica's probe ran into. */
export interface ConfirmAnswer {
  readonly reachable: boolean;
  readonly error?: string;
}

export interface ReplicaLink {
  /** Rejects when the replica cannot be asked, or does not answer, within `timeoutMs`. */
  confirm(apiAddress: string, req: ConfirmRequest, timeoutMs: number): Promise<ConfirmAnswer>;
}
