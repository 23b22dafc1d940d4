/**
 * Schemas of a rolling upgrade's commands: its start (what to upgrade, to
 * which version) and each step of it, proposed by whoever drives it (the
 * CLI, through any leader), so the table always says how far it got.
 */
import { z } from 'zod';
import { commandBase as base } from './command-base.js';
import { memberIdSchema, nodeIdSchema, softwareVersionSchema } from './fields.js';
import { MAX_NODES_PER_COMMAND } from './planned-commands.js';

/** The shortest and longest time a node may stay `restarting`. */
export const MIN_RESTART_TIMEOUT_MS = 1_000;
export const MAX_RESTART_TIMEOUT_MS = 3_600_000;

export const upgradeVersionSchema = softwareVersionSchema.min(1, { error: 'expected a version of 1–64 characters' });
export const restartTimeoutSchema = z.number().int().min(MIN_RESTART_TIMEOUT_MS).max(MAX_RESTART_TIMEOUT_MS);

const distinct = <T extends z.ZodType<string>>(item: T, max: number) =>
  z
    .array(item)
    .max(max)
    .superRefine((ids, ctx) => {
      ids.forEach((id, i) => {
        if (ids.indexOf(id) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `${id} is listed twice` });
      });
    });

/** Starts an upgrade of these data nodes (in order) and then these coordinators; refused while one runs. */
export const startUpgrade = z
  .strictObject({
    type: z.literal('startUpgrade'),
    ...base,
    to: upgradeVersionSchema,
    restartTimeoutMs: restartTimeoutSchema,
    nodes: distinct(nodeIdSchema, MAX_NODES_PER_COMMAND),
    coordinators: distinct(memberIdSchema, 15),
  })
  .superRefine((c, ctx) => {
    if (c.nodes.length + c.coordinators.length === 0) ctx.addIssue({ code: 'custom', path: ['nodes'], message: 'nothing to upgrade' });
  });

/**
 * - `restart`: `id` is restarted now (a data node turns `restarting`; its
 *   primaries hand over, its other copies stay for its catch-up);
 * - `back`: the data node is back with the new version: an ordinary node
 *   again, its copies catching up;
 * - `done`: `id` runs the new version, caught up (the last one ends the upgrade);
 * - `fail`: `id` did not come back: the upgrade stops there (a data node
 *   still `restarting` is then handled like any other node).
 */
export const UPGRADE_PHASES = ['restart', 'back', 'done', 'fail'] as const;
export type UpgradePhase = (typeof UPGRADE_PHASES)[number];

export const upgradeStep = z.strictObject({
  type: z.literal('upgradeStep'),
  ...base,
  /** The version the step is about: a step of an older upgrade is refused. */
  to: upgradeVersionSchema,
  id: z.union([nodeIdSchema, memberIdSchema]),
  phase: z.enum(UPGRADE_PHASES),
});
