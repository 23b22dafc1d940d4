/**
 * What a data node's answer means for a KV call: the value, a retry (the
 * table moved on, the node cannot serve now, or nothing answered), or an
 * answer that stands (bad input, too large, a missing key on PUT …), which
 * is never retried.
 */
import { z } from 'zod';
import type { RawResult } from '../data-wire/http-exchange.js';

export type KvMethod = 'GET' | 'PUT' | 'DELETE';

export type KvOutcome =
  /** `value` is the body of a GET (null: no such key); null for PUT and DELETE. */
  | { readonly kind: 'done'; readonly value: Buffer | null }
  | { readonly kind: 'retry' | 'final'; readonly code: string; readonly status: number; readonly message: string; readonly details: Readonly<Record<string, unknown>> };

/** Codes that say "not here or not now", not "not this request". */
const RETRYABLE_CODES: ReadonlySet<string> = new Set(['STALE_EPOCH', 'NOT_PRIMARY', 'NO_LEASE', 'UNAVAILABLE', 'NO_LEADER', 'NO_QUORUM', 'OVERLOADED', 'TIMEOUT']);
const RETRYABLE_STATUS: ReadonlySet<number> = new Set([421, 502, 503, 504]);
/** Never retried, whatever the code says: the request itself is at fault. */
const FINAL_STATUS: ReadonlySet<number> = new Set([400, 404, 413]);

/** The code an answer without a readable §7 body gets from its status. */
const CODE_OF_STATUS: Readonly<Record<number, string>> = {
  400: 'INVALID_INPUT',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  421: 'NOT_PRIMARY',
  429: 'OVERLOADED',
  503: 'UNAVAILABLE',
  504: 'TIMEOUT',
};

/** `{error: {code, message, ...payload}}` (DESIGN.md §7), bounded: a body that is not ours is read by its status. */
const errorBodySchema = z.object({
  error: z.looseObject({ code: z.string().min(1).max(64), message: z.string().max(8_192) }),
});

function isPrimitive(v: unknown): v is string | number | boolean | null {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function readErrorBody(status: number, body: Buffer): { code: string; message: string; details: Record<string, unknown> } {
  let parsed: z.infer<typeof errorBodySchema> | undefined;
  try {
    const r = errorBodySchema.safeParse(JSON.parse(body.toString('utf8')));
    parsed = r.success ? r.data : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined) {
    const text = body.toString('utf8', 0, Math.min(body.length, 200)).trim();
    return { code: CODE_OF_STATUS[status] ?? (status >= 500 ? 'UNAVAILABLE' : 'INTERNAL'), message: `HTTP ${status}${text === '' ? '' : `: ${text}`}`, details: {} };
  }
  const { code, message, ...rest } = parsed.error;
  const details: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) if (isPrimitive(v)) details[k] = v;
  return { code, message, details };
}

export function classifyAnswer(method: KvMethod, result: RawResult): KvOutcome {
  if (result.kind === 'no-answer') {
    const code = result.timedOut ? 'TIMEOUT' : 'UNAVAILABLE';
    return { kind: 'retry', code, status: 0, message: result.reason, details: {} };
  }
  if (result.kind === 'too-large') {
    const message = `the answer's value exceeds the client's limit of ${result.limitBytes} bytes (maxValueBytes)`;
    return { kind: 'final', code: 'PAYLOAD_TOO_LARGE', status: result.status, message, details: { limitBytes: result.limitBytes } };
  }
  const { status, body } = result;
  if (status >= 200 && status < 300) return { kind: 'done', value: method === 'GET' ? body : null };
  const error = readErrorBody(status, body);
  // A missing key, not a missing route or shard: GET finds nothing, DELETE has nothing to do.
  const missingKey = status === 404 && error.code === 'NOT_FOUND' && (error.details['resource'] === undefined || error.details['resource'] === 'key');
  if (missingKey && method !== 'PUT') return { kind: 'done', value: null };
  const retry = !FINAL_STATUS.has(status) && (RETRYABLE_CODES.has(error.code) || RETRYABLE_STATUS.has(status));
  return { kind: retry ? 'retry' : 'final', status, ...error };
}
