/** Why the Raft log store refused. One code per situation an operator acts on differently. */
export enum StorageErrorCode {
  /** An entry failed its checksum or does not decode. */
  CorruptEntry = 'CORRUPT_ENTRY',
  /** The log has a hole, or ends before the index the store recorded as its last. */
  MissingEntry = 'MISSING_ENTRY',
  /** Term, vote and commit failed their checksum, are missing, or commit lies beyond the log. */
  CorruptHardState = 'CORRUPT_HARD_STATE',
  /** Snapshot metadata or data failed its checksum, is missing, or the two do not belong together. */
  CorruptSnapshot = 'CORRUPT_SNAPSHOT',
  CorruptAppliedIndex = 'CORRUPT_APPLIED_INDEX',
  /** The store's own bookkeeping (summary record, an unknown key) is damaged. */
  CorruptRecord = 'CORRUPT_RECORD',
  /** LevelDB itself reported corruption, now or on an earlier start (quarantined). */
  CorruptDatabase = 'CORRUPT_DATABASE',
  /** The directory holds another format version, or is not a Raft log store at all. */
  UnsupportedFormat = 'UNSUPPORTED_FORMAT',
  /** LevelDB could not open or read the directory (permissions, lock held by another process, I/O). */
  DatabaseError = 'DATABASE_ERROR',
  /** A write failed; the store refuses every later write, since their order can no longer be kept. */
  WriteFailed = 'WRITE_FAILED',
  /** The batch breaks the persist contract (an entry behind the snapshot, a gap after the log). */
  InvalidBatch = 'INVALID_BATCH',
  /** A secret file (a node's identity) can be read or written by others than its owner. */
  InsecurePermissions = 'INSECURE_PERMISSIONS',
  /** Used after close(). */
  Closed = 'CLOSED',
}

export interface StorageErrorPayload {
  /** The replica's data directory. */
  readonly dataDir: string;
  /** The log index concerned, when there is one. */
  readonly index?: number;
}

export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    readonly payload: StorageErrorPayload,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What an operator must do about a damaged replica; Raft lets a minority replica be rebuilt from its peers. */
export const REFUSE_TO_START = 'refusing to start: restore this replica from a snapshot or wipe it and rejoin';

/** "<what> in <dir> <problem>; refusing to start: …" */
export function corruption(
  code: StorageErrorCode,
  dataDir: string,
  what: string,
  problem: string,
  index?: number,
  cause?: unknown,
): StorageError {
  const payload = index === undefined ? { dataDir } : { dataDir, index };
  return new StorageError(code, `${what} in ${dataDir} ${problem}; ${REFUSE_TO_START}`, payload, cause === undefined ? undefined : { cause });
}
