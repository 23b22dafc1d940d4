/**
 * The commands of the routing table: what a committed Raft entry can ask.
 *
 * One zod discriminated union, checked twice: by the proposer before the
 * command enters the log (`parseCommand`), and by every replica when it
 * applies the entry (`apply` parses again), so a replica never acts on an
 * entry it would not have accepted. Every command carries `atMs`, the
 * leader's clock at proposal time, because apply may not read a clock, and a
 * `reason` that ends up in the event it causes.
 *
 * Every command that changes a shard carries `expectedEpoch`: a plan made on
 * an older table (a deposed leader's, a retried request) is refused instead of
 * applied twice or out of order.
 */
import { z } from 'zod';
import { commandBase as base } from './command-base.js';
import { counterSchema, nodeIdSchema } from './fields.js';
import { registerNode, removeNode, setNodeLabels, setNodeStatus } from './node-commands.js';
import { cancelEvacuation, finishEvacuation, setEvacuationStall, setMaintenance, startEvacuation } from './planned-commands.js';
import { finishRestore } from './restore-commands.js';
import { settingsPatchSchema } from './settings-patch.js';
import { assignShard, moveShard, promotePrimary, setInSync } from './shard-commands.js';
import { startUpgrade, upgradeStep } from './upgrade-commands.js';
import type { Rejection } from './types.js';
import { describeIssues } from '../../common/zod-issues.js';

/** Merges a partial settings object into `config.settings` (validated as a whole), CAS on `config.version`. */
const updateSettings = z.strictObject({
  type: z.literal('updateSettings'),
  ...base,
  expectedVersion: counterSchema,
  settings: settingsPatchSchema,
});

/**
 * The leader: `nodeId` reported that it runs the settings of `version` (it
 * took a lease grant carrying them). Proposed only when the table shows
 * another version for the node, so a renewal costs no entry.
 */
const ackConfig = z.strictObject({
  type: z.literal('ackConfig'),
  ...base,
  nodeId: nodeIdSchema,
  version: counterSchema.min(1),
});

export const commandSchema = z.discriminatedUnion('type', [
  registerNode,
  setNodeLabels,
  setNodeStatus,
  removeNode,
  assignShard,
  moveShard,
  setInSync,
  promotePrimary,
  updateSettings,
  ackConfig,
  setMaintenance,
  startEvacuation,
  cancelEvacuation,
  finishEvacuation,
  setEvacuationStall,
  finishRestore,
  startUpgrade,
  upgradeStep,
]);

export type Command = z.infer<typeof commandSchema>;
export type CommandType = Command['type'];
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;
export type RegisterNode = CommandOf<'registerNode'>;
export type SetNodeLabels = CommandOf<'setNodeLabels'>;
export type SetNodeStatus = CommandOf<'setNodeStatus'>;
export type RemoveNode = CommandOf<'removeNode'>;
export type AssignShard = CommandOf<'assignShard'>;
export type MoveShard = CommandOf<'moveShard'>;
export type SetInSync = CommandOf<'setInSync'>;
export type PromotePrimary = CommandOf<'promotePrimary'>;
export type UpdateSettings = CommandOf<'updateSettings'>;
export type AckConfig = CommandOf<'ackConfig'>;
export type SetMaintenance = CommandOf<'setMaintenance'>;
export type StartEvacuation = CommandOf<'startEvacuation'>;
export type CancelEvacuation = CommandOf<'cancelEvacuation'>;
export type FinishEvacuation = CommandOf<'finishEvacuation'>;
export type SetEvacuationStall = CommandOf<'setEvacuationStall'>;
export type { FinishRestore } from './restore-commands.js';
export type StartUpgrade = CommandOf<'startUpgrade'>;
export type UpgradeStep = CommandOf<'upgradeStep'>;

// A record, so the compiler says when a command type is missing here.
const COMMAND_TYPE_SET: Readonly<Record<CommandType, true>> = {
  registerNode: true,
  setNodeLabels: true,
  setNodeStatus: true,
  removeNode: true,
  assignShard: true,
  moveShard: true,
  setInSync: true,
  promotePrimary: true,
  updateSettings: true,
  ackConfig: true,
  setMaintenance: true,
  startEvacuation: true,
  cancelEvacuation: true,
  finishEvacuation: true,
  setEvacuationStall: true,
  finishRestore: true,
  startUpgrade: true,
  upgradeStep: true,
};
export const COMMAND_TYPES = Object.keys(COMMAND_TYPE_SET) as readonly CommandType[];

export type ParseResult = { readonly ok: true; readonly command: Command } | Rejection;

/** Validates anything (a request body, a decoded entry) as a command; the error names the field. */
export function parseCommand(input: unknown): ParseResult {
  const parsed = commandSchema.safeParse(input);
  if (parsed.success) return { ok: true, command: parsed.data };
  const { field, message } = describeIssues(parsed.error);
  const type = typeof input === 'object' && input !== null ? (input as { type?: unknown }).type : undefined;
  const what = typeof type === 'string' && (COMMAND_TYPES as readonly string[]).includes(type) ? type : 'command';
  return { ok: false, code: 'INVALID_COMMAND', field, message: `invalid ${what}: ${message}` };
}
