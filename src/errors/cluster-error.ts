import { ClusterErrorCode } from './public-codes.js';
import { primitiveFields, TypedError, type PublicValue } from './typed-error.js';

/** What each code carries besides its message. Every field here is safe to show a client. */
export type ClusterErrorType =
  | { code: ClusterErrorCode.InvalidInput; issues?: readonly string[] }
  | { code: ClusterErrorCode.Unauthenticated }
  | { code: ClusterErrorCode.Forbidden; required: string; role: string }
  | { code: ClusterErrorCode.NotFound; resource: 'node' | 'shard' | 'key' | 'member' | 'route'; id?: string }
  | { code: ClusterErrorCode.Conflict; reason?: string }
  | { code: ClusterErrorCode.StaleEpoch; shard: number; expectedEpoch: number; currentEpoch: number }
  | { code: ClusterErrorCode.PayloadTooLarge; limitBytes: number; sizeBytes?: number }
  | { code: ClusterErrorCode.NotPrimary; shard: number; primary?: string; epoch?: number }
  | { code: ClusterErrorCode.NotLeader; leader?: string; leaderAddress?: string; term?: number }
  | { code: ClusterErrorCode.NoLeader; term?: number }
  | { code: ClusterErrorCode.NoQuorum; reason?: string }
  | { code: ClusterErrorCode.NoLease; node: string; leaseExpiredAtMs?: number }
  | { code: ClusterErrorCode.Unavailable; reason: string; shard?: number; retryAfterMs?: number }
  | { code: ClusterErrorCode.Overloaded; retryAfterMs?: number }
  | { code: ClusterErrorCode.Timeout; operation: string; timeoutMs: number }
  | { code: ClusterErrorCode.Internal }
  | { code: ClusterErrorCode.Forbidden; reason: string };

/** An error a client sees as is (subject to `toErrorBody`'s rule for INTERNAL). */
export class ClusterError extends TypedError<ClusterErrorType> {
  override readonly name = 'ClusterError';

  get publicCode(): ClusterErrorCode {
    return this.code;
  }

  override publicPayload(): Record<string, PublicValue> {
    return primitiveFields(this.payload);
  }
}

/** `err` is a ClusterError, with the given code if one is named. */
export function isClusterError<C extends ClusterErrorCode>(
  err: unknown,
  code?: C,
): err is ClusterError & { type: Extract<ClusterErrorType, { code: C }> } {
  return err instanceof ClusterError && (code === undefined || err.code === code);
}
