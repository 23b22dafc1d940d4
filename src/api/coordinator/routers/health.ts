/**
 * `health`: what the replicas ask each other for the leader's health monitor
 * (DESIGN.md §5). `confirm` is answered by any replica with a probe of its
 * own (the follower's only probes: it runs none of its own accord); the
 * leader asks every other voter when it suspects a node, and decides only
 * with a majority having seen the node fail.
 */
import { strictObject } from '../../../config/index.js';
import { addressSchema as address, nodeIdSchema as nodeId } from '../../../coordinator/routing/fields.js';
import { requireCertificate } from '../../http/caller-certificate.js';
import { internalProcedure, router } from '../trpc.js';

/** The node must be in this replica's table at this address (NOT_FOUND / CONFLICT otherwise). */
const confirmInput = strictObject({ nodeId, address });

export const healthRouter = router({
  /** `{reachable: false, error}` confirms the suspicion; `{reachable: true}` refutes it. A mutation: it does something (a probe), and is never cached. */
  confirm: internalProcedure.input(confirmInput).mutation(({ ctx, input }) => {
    // Only a replica asks: a confirmation from anyone else could make this replica probe at will.
    requireCertificate(ctx.peerCertificate, { roles: ['coordinator'] }, 'health.confirm');
    return ctx.nodeControl.confirmProbe(input);
  }),
});
