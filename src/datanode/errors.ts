/** The data node's refusals, as ClusterErrors whose messages name the shard, node and epochs involved. */
import { ClusterError, ClusterErrorCode } from '../errors/index.js';

export function noLease(node: string): ClusterError {
  return new ClusterError({ code: ClusterErrorCode.NoLease, node }, `node ${node} holds no valid lease from the coordinators: it refuses reads and writes until it renews one`);
}

export function staleEpoch(shard: number, expectedEpoch: number, currentEpoch: number, node: string): ClusterError {
  const how = expectedEpoch < currentEpoch ? 'has moved on to' : 'is not yet known here; this node knows';
  return new ClusterError(
    { code: ClusterErrorCode.StaleEpoch, shard, expectedEpoch, currentEpoch },
    `shard ${shard} epoch ${expectedEpoch} ${how} epoch ${currentEpoch} (node ${node}): refresh the routing table and retry`,
  );
}

export function notPrimary(shard: number, node: string, primary: string | null, epoch: number | undefined): ClusterError {
  const payload = { code: ClusterErrorCode.NotPrimary as const, shard, ...(primary === null ? {} : { primary }), ...(epoch === undefined ? {} : { epoch }) };
  const where = primary === null ? 'no primary is known here' : `its primary is ${primary}`;
  return new ClusterError(payload, `node ${node} is not the primary of shard ${shard}${epoch === undefined ? '' : ` at epoch ${epoch}`}: ${where}`);
}

export function unavailable(shard: number, reason: string, message: string): ClusterError {
  return new ClusterError({ code: ClusterErrorCode.Unavailable, reason, shard }, message);
}

/** CONFLICT `RESYNC`: the replica cannot continue the stream and must be re-copied. */
export function resync(shard: number, node: string, why: string): ClusterError {
  return new ClusterError({ code: ClusterErrorCode.Conflict, reason: 'RESYNC' }, `shard ${shard} on node ${node} must be re-copied: ${why}`);
}

/** Refusals that say the cluster took nothing: the request was checked and turned down, so no change it asked for can commit later. */
const DEFINITE_REFUSALS: ReadonlySet<ClusterErrorCode> = new Set([
  ClusterErrorCode.InvalidInput,
  ClusterErrorCode.Unauthenticated,
  ClusterErrorCode.Forbidden,
  ClusterErrorCode.NotFound,
  ClusterErrorCode.Conflict,
  ClusterErrorCode.StaleEpoch,
  ClusterErrorCode.PayloadTooLarge,
  ClusterErrorCode.NotPrimary,
]);

/** Whether a failed call to the coordinators may still take effect (a lost answer, a timeout, a leader that went away). */
export function outcomeUnknown(e: unknown): boolean {
  return !(e instanceof ClusterError) || !DEFINITE_REFUSALS.has(e.type.code);
}

export function isResync(e: unknown): boolean {
  return e instanceof ClusterError && e.type.code === ClusterErrorCode.Conflict && e.type.reason === 'RESYNC';
}

export function invalidInput(issues: readonly string[]): ClusterError {
  return new ClusterError({ code: ClusterErrorCode.InvalidInput, issues }, issues.join('; '));
}

export function stopping(node: string): ClusterError {
  return new ClusterError({ code: ClusterErrorCode.Unavailable, reason: 'stopping' }, `node ${node} is stopping`);
}

/** A short description of any failure, for logs and `reason` fields. */
export function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
