export * from './types.js';
export { RaftError, RaftErrorCode, type RaftErrorPayload } from './errors.js';
export { RawNode, type RaftOptions, type RaftModules, type ProposeResult } from './raft.js';
export { SeededRng, type Rng } from './rng.js';
export { encodeConfChange, decodeConfChange, applyConfChange, type ConfChangeRecord } from './confchange.js';
export { quorum } from './progress.js';
