/** The replicated routing table (DESIGN.md §4): state, commands, apply, digest, snapshot, views. */
export * from './types.js';
export {
  parseCommand,
  commandSchema,
  COMMAND_TYPES,
  type Command,
  type CommandType,
  type CommandOf,
  type ParseResult,
  type RegisterNode,
  type SetNodeLabels,
  type SetNodeStatus,
  type RemoveNode,
  type AssignShard,
  type MoveShard,
  type SetInSync,
  type PromotePrimary,
  type UpdateSettings,
  type AckConfig,
  type SetMaintenance,
  type StartEvacuation,
  type CancelEvacuation,
  type FinishEvacuation,
  type SetEvacuationStall,
  type StartUpgrade,
  type UpgradeStep,
} from './commands.js';
export { UPGRADE_PHASES, MIN_RESTART_TIMEOUT_MS, MAX_RESTART_TIMEOUT_MS, restartTimeoutSchema, upgradeVersionSchema, type UpgradePhase } from './upgrade-commands.js';
export { MAX_NODES_PER_COMMAND, MAX_MAINTENANCE_TTL_MS, maintenanceNodesSchema, maintenanceTtlSchema } from './planned-commands.js';
export { encodeCommand, decodeCommand, COMMAND_FORMAT_VERSION } from './codec.js';
export { apply, applyCommand, applyEntry } from './apply.js';
export type { AdoptedShard } from './restore-commands.js';
export { majorityOf } from './apply-node.js';
export { applyMemberChange, encodeMemberContext, type MemberChange, type MemberContext } from './members.js';
export { initialState, MAX_SHARDS, type InitialStateInput } from './initial-state.js';
export { DEFAULT_EVENT_CAPACITY } from './events.js';
export { stateHash } from './state-hash.js';
export { serializeState, deserializeState, SnapshotError, SNAPSHOT_FORMAT, SNAPSHOT_VERSION } from './snapshot.js';
export { invariantViolations } from './invariants.js';
export { shardIndex, shardsHeldBy, type ShardIndex } from './shard-index.js';
export { canonicalJson } from './canonical-json.js';
export { nodeById, memberById, shardById, nodesInOrder, shardIdsOnNode } from './lookup.js';
export {
  acceptsNewCopies,
  canServe,
  copiesMoveAway,
  healthyShareKept,
  statusRules,
  STATUS_RULES,
  type HealthCount,
  type LocalNodeStatus,
  type StatusRules,
} from './node-status.js';
export { copiesOf } from './shard-state.js';
export { settingsPatchSchema, mergeSettings, type SettingsPatch, type DeepPartial } from './settings-patch.js';
export * from './views.js';
export { shardForKey, keyHash, fnv1a32 } from '../../common/key-hash.js';
export { epochAfterInSyncChange } from './shard-commands.js';
