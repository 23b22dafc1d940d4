/**
 * Input schemas of the node router, bounded everywhere: whatever a peer or
 * a coordinator sends is checked here before the engine sees it.
 */
import { z } from 'zod';
import { keyProblem } from '../../common/data-key.js';
import { idSchema, intInRange, strictObject } from '../../config/index.js';
import { MAX_OPS_PER_BATCH, MAX_RECOVERY_PAGE_ENTRIES, MAX_SHARD_ID, MAX_VALUE_B64_CHARS } from './limits.js';

export const shardIdSchema = intInRange(0, MAX_SHARD_ID);
const shard = shardIdSchema;

/** Epochs and seqs: counters that start at 0 (or 1) and only grow. */
export const counterSchema = intInRange(0, Number.MAX_SAFE_INTEGER);
const counter = counterSchema;

export const dataKeySchema = z.string({ error: 'expected a key (a string)' }).superRefine((value, ctx) => {
  const problem = keyProblem(value);
  // keyProblem's words start with "key: "; the issue's path names the field already.
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem.replace(/^key: /, ''), input: value });
});

// A plain character-class loop with the length checked apart: a grouped `(?:….{4})*` overflows V8's regex stack on megabytes.
const BASE64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;
const isBase64 = (s: string): boolean => s.length % 4 === 0 && BASE64_CHARS.test(s);

/** Standard alphabet, padded (contract.ts `ValueB64`). */
export const valueB64Schema = z
  .string({ error: 'expected a base64 string' })
  .max(MAX_VALUE_B64_CHARS, { error: `expected at most ${MAX_VALUE_B64_CHARS} base64 characters` })
  .refine(isBase64, { error: 'expected base64 (standard alphabet, padded)' });

/** The bytes a base64 string of valueB64Schema decodes to, without decoding it. */
export function decodedLength(b64: string): number {
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return (b64.length / 4) * 3 - padding;
}

export const recoveryIdSchema = z
  .string({ error: 'expected a recovery id (a string)' })
  .regex(/^[A-Za-z0-9_-]{1,128}$/, { error: 'expected a recovery id of 1 to 128 letters, digits, "-" and "_"' });

const key = dataKeySchema;

const op = strictObject({ seq: counter, key, value: valueB64Schema.nullable() });

export const replicationBatchSchema = strictObject({
  shard,
  epoch: counter,
  primary: idSchema,
  firstSeq: counter,
  ops: z.array(op, { error: 'expected an array of ops' }).max(MAX_OPS_PER_BATCH, { error: `expected at most ${MAX_OPS_PER_BATCH} ops` })
    // contract.ts's ReplicationBatch has readonly ops; the input type must take them.
    .readonly(),
}).superRefine((batch, ctx) => {
  // A replica applies a batch only as a contiguous run; a gap inside one is the sender's bug, refused here.
  const at = batch.ops.findIndex((o, i) => o.seq !== batch.firstSeq + i);
  if (at === -1) return;
  ctx.addIssue({
    code: 'custom',
    path: ['ops', at, 'seq'],
    input: batch.ops[at]?.seq,
    message: `expected ${batch.firstSeq + at} (ops are contiguous from firstSeq ${batch.firstSeq})`,
  });
});

export const recoveryBeginSchema = strictObject({ shard, epoch: counter, replica: idSchema, fromSeq: counter.optional(), followed: idSchema.nullable().optional() });

const recoveryId = recoveryIdSchema;

export const recoveryPageSchema = strictObject({ recoveryId, limit: intInRange(1, MAX_RECOVERY_PAGE_ENTRIES) });

export const recoveryFinishSchema = strictObject({ recoveryId, lastSeq: counter });

export const handoffSchema = strictObject({ shard, epoch: counter });
