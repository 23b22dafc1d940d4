export type { PersistBatch, RaftStorage } from './raft-storage.js';
export { batchOf, isEmptyBatch } from './raft-storage.js';
export { MemoryStorage } from './memory-storage.js';
export { LevelRaftStorage, type LevelPersistBatch, type LevelRaftStorageOptions } from './level-raft-storage.js';
export type { StoredState } from './verify-store.js';
export { StorageError, StorageErrorCode, type StorageErrorPayload } from './errors.js';
