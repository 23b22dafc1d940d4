import { NONE, type Entry, type HardState, type InitialState, type Snapshot } from '../raft/index.js';
import { crc32c } from './crc32c.js';
import { corruption, StorageError, StorageErrorCode } from './errors.js';
import type { ScannedStore } from './raft-repository.js';
import { FORMAT_VERSION, type StoreSummary } from './raft-records.js';

/** What load() returns: the replica's initial state plus the last index its state machine applied. */
export interface StoredState extends InitialState {
  /** 0 when never saved. */
  readonly applied: number;
}

const NO_HARD_STATE: HardState = { term: 0, vote: NONE, commit: 0 };

/** The format record is missing or names a version this build cannot read. */
export function checkFormat(dataDir: string, format: number | undefined): void {
  if (format === FORMAT_VERSION) return;
  if (format === undefined) {
    throw corruption(StorageErrorCode.UnsupportedFormat, dataDir, 'the Raft log store', 'has data but no format record (not a coordinator log directory, or the record was lost)');
  }
  throw new StorageError(
    StorageErrorCode.UnsupportedFormat,
    `${dataDir} holds Raft log format version ${format}, this build reads version ${FORMAT_VERSION}; refusing to start: run a build that reads it, or wipe this replica and rejoin`,
    { dataDir },
  );
}

/**
 * Checks that the records of a scanned store fit together and returns the
 * state they describe. Each record's own checksum has already held; this
 * catches what vanished or does not belong: a hole in the log, a log that
 * ends early, a snapshot without its data, a commit beyond the last entry.
 */
export function verifyStore(dataDir: string, s: ScannedStore): StoredState & { summary: StoreSummary } {
  checkFormat(dataDir, s.format);
  const summary = s.summary;
  if (summary === undefined) {
    throw corruption(StorageErrorCode.CorruptRecord, dataDir, 'the store summary', 'is missing');
  }
  const snapshot = verifySnapshot(dataDir, s, summary);
  const base = snapshot?.meta.index ?? 0;
  const entries = verifyEntries(dataDir, s.entries, base, summary.lastIndex);
  const lastIndex = base + entries.length;

  if (summary.hasHardState !== (s.hardState !== undefined)) {
    throw corruption(StorageErrorCode.CorruptHardState, dataDir, 'the hard state (term, vote, commit)', summary.hasHardState ? 'is missing' : 'is present though none was written');
  }
  const hardState = s.hardState ?? NO_HARD_STATE;
  if (hardState.commit > lastIndex) {
    throw corruption(StorageErrorCode.CorruptHardState, dataDir, 'the hard state (term, vote, commit)', `has commit ${hardState.commit} beyond the last log entry ${lastIndex}`);
  }
  if (summary.hasApplied !== (s.applied !== undefined)) {
    throw corruption(StorageErrorCode.CorruptAppliedIndex, dataDir, 'the applied index', summary.hasApplied ? 'is missing' : 'is present though none was written');
  }
  return { hardState, snapshot, entries, applied: s.applied ?? 0, summary };
}

function verifySnapshot(dataDir: string, s: ScannedStore, summary: StoreSummary): Snapshot | undefined {
  const fail = (what: string, problem: string) => corruption(StorageErrorCode.CorruptSnapshot, dataDir, what, problem);
  const { snapshotMeta: m, snapshotData: data } = s;
  if (!summary.hasSnapshot) {
    if (m !== undefined || data !== undefined) throw fail('the snapshot', 'is present though none was written');
    return undefined;
  }
  if (m === undefined) throw fail('the snapshot metadata', 'is missing');
  if (data === undefined) throw fail('the snapshot data', 'is missing');
  if (m.meta.index !== summary.snapshotIndex) {
    throw fail('the snapshot metadata', `names index ${m.meta.index}, the store summary ${summary.snapshotIndex}`);
  }
  if (data.length !== m.dataLength || crc32c(data) !== m.dataCrc) {
    throw fail('the snapshot data', `does not match its metadata (${data.length} bytes, ${m.dataLength} expected, or checksum mismatch)`);
  }
  return { meta: m.meta, data };
}

/** Entries must run from base+1 to lastIndex without a hole. */
function verifyEntries(dataDir: string, entries: Entry[], base: number, lastIndex: number): Entry[] {
  let expected = base + 1;
  for (const e of entries) {
    if (e.index < expected) {
      throw corruption(StorageErrorCode.CorruptEntry, dataDir, `log entry ${e.index}`, `lies at or before the snapshot at ${base} (should have been deleted)`, e.index);
    }
    if (e.index > expected) {
      throw corruption(StorageErrorCode.MissingEntry, dataDir, `log entry ${expected}`, `is missing (the log jumps from ${expected - 1} to ${e.index})`, expected);
    }
    expected++;
  }
  const last = expected - 1;
  if (last < lastIndex) {
    throw corruption(StorageErrorCode.MissingEntry, dataDir, `log entry ${last + 1}`, `is missing (the log ends at ${last}, the store summary says ${lastIndex})`, last + 1);
  }
  if (last > lastIndex) {
    throw corruption(StorageErrorCode.CorruptEntry, dataDir, `log entry ${lastIndex + 1}`, `lies beyond the last index ${lastIndex} in the store summary`, lastIndex + 1);
  }
  return entries;
}
