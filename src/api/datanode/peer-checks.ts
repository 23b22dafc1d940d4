/**
 * The data node's checks of who calls (with TLS): a replication batch only
 * from the certificate of the node it names as the shard's primary (the
 * engine then refuses a primary it does not follow), recovery pages only
 * to the node that began the session.
 */
import type { ReplicationBatch } from '../../datanode/contract.js';
import { requireCertificate } from '../http/caller-certificate.js';
import type { NodeApiContext } from './context.js';

export function checkReplicationSender(ctx: NodeApiContext, batch: Pick<ReplicationBatch, 'shard' | 'primary'>): void {
  requireCertificate(ctx.peerCertificate, { roles: ['node'], id: batch.primary }, `a replication batch of shard ${batch.shard} from primary ${batch.primary}`);
}

export function checkRecoveryOpener(ctx: NodeApiContext, recoveryId: string, what: string): void {
  const opener = ctx.recoveryOpeners.openerOf(recoveryId);
  // No opener remembered: with TLS on, nobody may read it (requireCertificate refuses every id against a placeholder no certificate names).
  requireCertificate(ctx.peerCertificate, { roles: ['node'], id: opener ?? '(no session known)' }, `${what} of recovery ${recoveryId}`);
}
