import { ByteReader, ByteWriter, DecodeError } from '../../storage/bytes.js';

/** Whether a copy holds the whole history it claims (`in-sync`) or is being filled (`recovering`). */
export type CopyState = 'in-sync' | 'recovering';

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
const STATES: readonly CopyState[] = ['in-sync', 'recovering'];

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
