export {
  clusterFileSchema,
  coordinatorEntrySchema,
  endpointKey,
  logLevelSchema,
  nodeEntrySchema,
  type ClusterFile,
  type ClusterFileInput,
  type CoordinatorEntry,
  type NodeEntry,
} from './cluster-file.js';
export { hostProblem, hostSchema, idSchema, intInRange, labelsSchema, numberInRange, portSchema, strictObject } from './fields.js';
export { findJsonSyntaxProblem, type JsonSyntaxProblem } from './json-syntax.js';
export { loadClusterFile, parseClusterFile, parseClusterFileText } from './load-cluster-file.js';
export { notificationsSchema, type NotificationSettings } from './notifications.js';
export { raftSettingsSchema, type RaftSettings } from './raft-settings.js';
export { resolveCoordinator, resolveNode, tlsPaths, type CoordinatorView, type NodeView, type ProcessOverrides, type TlsFilePaths } from './resolve.js';
export {
  clusterSettingsSchema,
  DEFAULT_CLUSTER_SETTINGS,
  healthSettingsSchema,
  placementSettingsSchema,
  recoverySettingsSchema,
  replicationSettingsSchema,
  type ClusterSettings,
  type HealthSettings,
  type PlacementSettings,
  type RecoverySettings,
  type ReplicationSettings,
} from './settings.js';
export { describeValue, formatPath, formatZodIssues } from '../common/zod-issues.js';
export { authSchema, roleAtLeast, roleSchema, ROLES, type AuthSettings, type Role, type TokenEntry } from './auth.js';
export { createToken, hashToken, tokenMatches, tokenName, TOKEN_PATTERN } from './token-hash.js';
export { checkedInternalToken, INTERNAL_TOKEN_ENV, loadInternalToken, writeInternalToken } from './internal-token.js';
