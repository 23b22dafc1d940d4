/** `members`: the coordinator replicas, and changes to them (leader only, forwarded from followers). */
import { idSchema, portSchema, hostSchema, strictObject } from '../../../config/index.js';
import { adminLeaderProcedure, readerProcedure, router } from '../trpc.js';
import { memberInfo } from '../wire/member.js';
import { actorOf } from '../../auth/index.js';

const addInput = strictObject({ id: idSchema, host: hostSchema, apiPort: portSchema, peerPort: portSchema });
const removeInput = strictObject({ id: idSchema });
const transferInput = strictObject({ to: idSchema });

export const membersRouter = router({
  list: readerProcedure.query(async ({ ctx }) => ({ members: (await ctx.service.members()).map(memberInfo) })),

  /** Resolves once the new replica caught up as a learner and was promoted to voter. */
  add: adminLeaderProcedure.input(addInput).mutation(async ({ ctx, input }) => {
    await ctx.service.addMember(input, undefined, actorOf(ctx.auth));
    return { member: { id: input.id, host: input.host, api_port: input.apiPort, peer_port: input.peerPort } };
  }),

  remove: adminLeaderProcedure.input(removeInput).mutation(async ({ ctx, input }) => {
    await ctx.service.removeMember(input.id, undefined, actorOf(ctx.auth));
    return { removed: input.id };
  }),

  /** Resolves once `to` leads. */
  transferLeader: adminLeaderProcedure.input(transferInput).mutation(async ({ ctx, input }) => {
    // It commits no routing-table change, so no event can name who asked: the leader's log does.
    ctx.logger.info('leadership transfer asked', { to: input.to, by: actorOf(ctx.auth) ?? null });
    await ctx.service.transferLeadership(input.to);
    return { leader: input.to };
  }),
});
