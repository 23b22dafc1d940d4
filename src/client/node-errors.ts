/**
 * A failed call as the ClusterError the server threw: same code, same
 * payload (`currentEpoch` of STALE_EPOCH, `reason` of CONFLICT …), so that
 * code on the other side of a client (the data node engine) branches on it
 * as if it had called in process. A call that got no answer becomes
 * UNAVAILABLE, or TIMEOUT when none came in time (it may still take effect).
 */
import { ClusterError, ClusterErrorCode, isClusterErrorCode, type ClusterErrorType, type PublicValue } from '../errors/index.js';
import { describeTransportFailure, errorDataOf } from './failure.js';

/** Fields of the answer's `data` that describe the answer, not the error. */
const ENVELOPE_FIELDS: ReadonlySet<string> = new Set(['code', 'message', 'httpStatus', 'path']);

const isPublicValue = (v: unknown): v is PublicValue =>
  v === null ||
  typeof v === 'string' ||
  typeof v === 'boolean' ||
  (typeof v === 'number' && Number.isFinite(v)) ||
  (Array.isArray(v) && v.every((x) => x === null || ['string', 'number', 'boolean'].includes(typeof x)));

function payloadOf(data: Readonly<Record<string, unknown>>): Record<string, PublicValue> {
  const out: Record<string, PublicValue> = {};
  for (const [key, value] of Object.entries(data)) if (!ENVELOPE_FIELDS.has(key) && isPublicValue(value)) out[key] = value;
  return out;
}

/** The first `code` in an error's cause chain, for failures without an answer. */
function causeCodeOf(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export interface CallDescription {
  /** What was called, for messages: `replicate on n2 (127.0.0.12:8082)`. */
  readonly operation: string;
  /** The call's timeout, named by a TIMEOUT error. */
  readonly timeoutMs: number;
}

export function toClusterError(err: unknown, call: CallDescription): ClusterError {
  if (err instanceof ClusterError) return err;
  const data = errorDataOf(err) as Readonly<Record<string, unknown>> | undefined;
  const message = typeof data?.['message'] === 'string' ? data['message'] : err instanceof Error ? err.message : String(err);
  const code = data?.['code'];
  if (data !== undefined && isClusterErrorCode(code)) {
    const payload = payloadOf(data);
    // An answer that gave up on its own (the cluster client's ClusterUnavailableError) may lack the fields these codes need.
    if (code === ClusterErrorCode.Unavailable && typeof payload['reason'] !== 'string') payload['reason'] = message;
    if (code === ClusterErrorCode.Timeout) {
      payload['operation'] ??= call.operation;
      payload['timeoutMs'] ??= call.timeoutMs;
    }
    return new ClusterError({ code, ...payload } as ClusterErrorType, message, { cause: err });
  }
  if (data !== undefined) {
    // An answer in a vocabulary we do not share (a protocol error, another version): a bug here or there.
    return new ClusterError({ code: ClusterErrorCode.Internal }, `${call.operation}: ${typeof code === 'string' ? `${code}: ` : ''}${message}`, { cause: err });
  }
  if (causeCodeOf(err) === 'TIMEOUT') {
    return new ClusterError(
      { code: ClusterErrorCode.Timeout, operation: call.operation, timeoutMs: call.timeoutMs },
      `${call.operation}: no answer within ${call.timeoutMs} ms; it may still take effect`,
      { cause: err },
    );
  }
  const why = describeTransportFailure(err);
  return new ClusterError({ code: ClusterErrorCode.Unavailable, reason: `${call.operation}: ${why}` }, `${call.operation}: ${why}`, { cause: err });
}
