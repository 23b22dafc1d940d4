export type { PersistBatch, RaftStorage } from './raft-storage.js';
export { batchOf, isEmptyBatch } from './raft-storage.js';
export { MemoryStorage } from './memory-storage.js';
export {
  LevelRaftStorage,
  type LevelPersistBatch,
  type LevelRaftStorageModules,
  type LevelRaftStorageOptions,
  type SyncedWriteHook,
} from './level-raft-storage.js';
export { DiskFaults, FAULT_CRASH_EXIT_CODE, FAULTS_ENV, parseFaultSwitch, type FaultSettings, type PersistedBatch } from './faults/index.js';
export type { StoredState } from './verify-store.js';
export { syncDir } from './leveldb-files.js';
export { StorageError, StorageErrorCode, type StorageErrorPayload } from './errors.js';
