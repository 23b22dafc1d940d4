/** `admin`: the cluster-wide settings, changed as one updateSettings command, compare-and-set on their version. */
import { strictObject } from '../../../config/index.js';
import { settingsPatchSchema } from '../../../coordinator/routing/index.js';
import { readInput, reasonInput, seqSchema } from '../inputs.js';
import { commandBase, proposeCommand } from '../propose.js';
import { publicProcedure, router } from '../trpc.js';
import { configInfo } from '../wire/config.js';
import { readMeta } from '../wire/read-meta.js';

const updateInput = strictObject({
  /** The version `GET /cluster/config` showed: a change made since is refused (409), never overwritten. */
  expectedVersion: seqSchema,
  /** Only the settings to change; the merged whole is validated again (cross-field rules hold). */
  settings: settingsPatchSchema,
  reason: reasonInput.optional(),
});

export const adminRouter = router({
  config: publicProcedure.input(readInput).query(async ({ ctx, input }) => {
    const read = await ctx.service.read(input?.consistency ?? 'linearizable');
    return { ...configInfo(read.state.config), ...readMeta(read) };
  }),

  updateConfig: publicProcedure.input(updateInput).mutation(async ({ ctx, input }) => {
    await proposeCommand(ctx, {
      type: 'updateSettings',
      ...commandBase(input.reason ?? 'settings changed through the API'),
      expectedVersion: input.expectedVersion,
      settings: input.settings,
    });
    return configInfo((await ctx.service.read('stale')).state.config);
  }),
});
