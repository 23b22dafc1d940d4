/**
 * `upgrade`: a rolling upgrade as replicated state. The coordinators record
 * it and every step of it; the restarts themselves are the operator's
 * command, run by whoever drives the upgrade (`torua upgrade`): a
 * coordinator never runs a shell command from a request. Because every step
 * is a committed command, a driver that loses its leader carries on through
 * the next one, and a driver started again picks up where the table says.
 */
import { z } from 'zod';
import { intInRange, strictObject } from '../../../config/index.js';
import {
  MAX_RESTART_TIMEOUT_MS,
  MIN_RESTART_TIMEOUT_MS,
  nodesInOrder,
  UPGRADE_PHASES,
  type NodeStatus,
  type RoutingState,
} from '../../../coordinator/routing/index.js';
import { ClusterError, ClusterErrorCode } from '../../../errors/index.js';
import { idSchema } from '../../../config/index.js';
import { readInput, reasonInput } from '../inputs.js';
import { commandBase, proposeCommand } from '../propose.js';
import { adminProcedure, readerProcedure, router } from '../trpc.js';
import { upgradeInfo, type UpgradeInfo } from '../wire/upgrade.js';

/** How long a node may stay `restarting` unless the request says otherwise. */
export const DEFAULT_RESTART_TIMEOUT_MS = 120_000;

const versionInput = z
  .string({ error: 'expected a version (a string)' })
  .min(1, { error: 'expected a version of 1–64 characters' })
  .max(64, { error: 'expected a version of 1–64 characters' });

const startInput = strictObject({
  to: versionInput,
  /** How long each data node may stay `restarting` before it is handled like any other node. */
  restartTimeoutMs: intInRange(MIN_RESTART_TIMEOUT_MS, MAX_RESTART_TIMEOUT_MS).optional(),
  reason: reasonInput.optional(),
});

const stepInput = strictObject({
  to: versionInput,
  id: idSchema,
  phase: z.enum(UPGRADE_PHASES, { error: `expected phase ${UPGRADE_PHASES.map((p) => `"${p}"`).join(', ')}` }),
  reason: reasonInput.optional(),
});

/** Data nodes a rolling upgrade restarts: those serving with nothing else asked of them. */
const UPGRADED: readonly NodeStatus[] = ['healthy', 'unknown'];

/** `major.minor` of a version (`0.1.0` → `0.1`), or the whole string when it is not dotted. */
export const releaseLine = (version: string): string => version.split(/[.+-]/).slice(0, 2).join('.');

export interface UpgradeStarted extends UpgradeInfo {
  /** Data nodes left out (not healthy or unknown: in maintenance, evacuating, draining, failed), with their status. */
  readonly skipped: readonly { readonly id: string; readonly status: NodeStatus }[];
}

function targets(state: RoutingState): { nodes: string[]; skipped: UpgradeStarted['skipped'] } {
  const live = nodesInOrder(state).filter((n) => n.status !== 'left');
  return {
    nodes: live.filter((n) => UPGRADED.includes(n.status)).map((n) => n.id),
    skipped: live.filter((n) => !UPGRADED.includes(n.status)).map((n) => ({ id: n.id, status: n.status })),
  };
}

export const upgradeRouter = router({
  /** The latest upgrade (running, done or failed), null before the first. */
  status: readerProcedure.input(readInput).query(async ({ ctx, input }) => upgradeInfo((await ctx.service.read(input?.consistency ?? 'linearizable')).state.upgrade)),

  /**
   * Records an upgrade of every serving data node (in id order) and then
   * every coordinator; 409 while one runs. Versions may mix only within one
   * release line (`major.minor`): the routing table's commands and the
   * wire formats are the same there, so a cluster half upgraded still agrees.
   */
  start: adminProcedure.input(startInput).mutation(async ({ ctx, input }): Promise<UpgradeStarted> => {
    const running = ctx.service.status().version;
    if (releaseLine(input.to) !== releaseLine(running)) {
      const message = `to: ${input.to} is not of the release line ${releaseLine(running)} that the coordinators run (${running}); versions mix only within one major.minor`;
      throw new ClusterError({ code: ClusterErrorCode.InvalidInput, issues: [message] }, message);
    }
    const { state } = await ctx.service.read('linearizable');
    const { nodes, skipped } = targets(state);
    const coordinators = Object.keys(state.members).sort();
    await proposeCommand(ctx, {
      type: 'startUpgrade',
      ...commandBase(input.reason ?? `rolling upgrade to ${input.to}`),
      to: input.to,
      restartTimeoutMs: input.restartTimeoutMs ?? DEFAULT_RESTART_TIMEOUT_MS,
      nodes,
      coordinators,
    });
    const after = (await ctx.service.read('stale')).state.upgrade;
    return { ...upgradeInfo(after)!, skipped };
  }),

  /** One step of the running upgrade (see UPGRADE_PHASES); what the driver proposes as it goes. */
  step: adminProcedure.input(stepInput).mutation(async ({ ctx, input }): Promise<UpgradeInfo> => {
    await proposeCommand(
      ctx,
      { type: 'upgradeStep', ...commandBase(input.reason ?? `upgrade to ${input.to}: ${input.id} ${input.phase}`), to: input.to, id: input.id, phase: input.phase },
      { node: input.id },
    );
    return upgradeInfo((await ctx.service.read('stale')).state.upgrade)!;
  }),
});
