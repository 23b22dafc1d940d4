import { ByteReader, ByteWriter, DecodeError } from '../../common/bytes.js';

/**
 * `in-sync`: whole up to lastSeq, and in the shard's in-sync set when last stored.
 * `behind`: whole up to lastSeq, but out of the in-sync set (it missed writes after
 * that seq): it may catch up from there, and never reports itself in sync.
 * `recovering`: being filled by a full copy, so not whole: only a new copy may replace it.
 */
export type CopyState = 'in-sync' | 'behind' | 'recovering';

/** What a node remembers about one shard copy, stored atomically with every write to it. */
export interface ShardMeta {
  /** The epoch the node last knew for the shard. */
  readonly epoch: number;
  /** The primary whose history this copy holds (null: none yet). */
  readonly primary: string | null;
  readonly lastSeq: number;
  readonly keyCount: number;
  readonly state: CopyState;
}

const META_VERSION = 1;
// Stored as the index here: new states go at the end, so copies stored by an older version read the same.
const STATES: readonly CopyState[] = ['in-sync', 'recovering', 'behind'];

export function encodeMeta(m: ShardMeta): Uint8Array {
  return new ByteWriter(64)
    .u8(META_VERSION)
    .u64(m.epoch)
    .u64(m.lastSeq)
    .u64(m.keyCount)
    .u8(STATES.indexOf(m.state))
    .string(m.primary ?? '')
    .finish();
}

/** Throws DecodeError for a record this format never writes. */
export function decodeMeta(bytes: Uint8Array): ShardMeta {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== META_VERSION) throw new DecodeError(`shard metadata version ${version}, this build reads ${META_VERSION}`);
  const epoch = r.u64();
  const lastSeq = r.u64();
  const keyCount = r.u64();
  const state = STATES[r.u8()];
  if (state === undefined) throw new DecodeError('unknown copy state');
  const primary = r.string();
  r.end();
  return { epoch, lastSeq, keyCount, state, primary: primary === '' ? null : primary };
}
