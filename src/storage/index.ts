export type { PersistBatch, RaftStorage } from './raft-storage.js';
export { batchOf, isEmptyBatch } from './raft-storage.js';
export { MemoryStorage } from './memory-storage.js';
