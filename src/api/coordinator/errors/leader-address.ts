/** NOT_LEADER answers carry the leader's API address, so a client can go there without asking around. */
import type { CoordinatorService } from '../../../coordinator/service.js';
import { ClusterError, ClusterErrorCode, isClusterError } from '../../../errors/index.js';

export function withLeaderAddress<E>(err: E, service: CoordinatorService, address?: string): E | ClusterError {
  if (!isClusterError(err, ClusterErrorCode.NotLeader)) return err;
  const { leader, leaderAddress } = err.type;
  const known = leaderAddress ?? address ?? (leader ? service.apiAddressOf(leader) : undefined);
  if (known === undefined || known === leaderAddress) return err;
  return new ClusterError({ ...err.type, leaderAddress: known }, err.message, { cause: err.cause });
}
