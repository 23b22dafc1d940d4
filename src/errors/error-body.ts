import { CLUSTER_ERROR_STATUS, ClusterErrorCode, type ErrorStatus } from './public-codes.js';
import { TypedError, type PublicValue } from './typed-error.js';

/** The JSON error format of DESIGN.md §7. */
export interface ErrorBody {
  readonly error: { readonly code: ClusterErrorCode; readonly message: string; readonly [field: string]: PublicValue };
}

export interface ErrorResponse extends ErrorStatus {
  readonly body: ErrorBody;
}

/** What a client reads instead of an internal error's message, which may name paths, peers or worse. */
export const INTERNAL_ERROR_MESSAGE = 'internal error; the server log has the details';

/**
 * Status, tRPC code and body for anything thrown. Domain errors show their
 * public code, message and public payload; an INTERNAL one, and anything
 * that is not a domain error, shows only the code and a fixed message, so
 * neither a stack trace nor an internal message ever reaches a client (log
 * the error itself next to the response).
 */
export function errorResponse(err: unknown): ErrorResponse {
  const code = err instanceof TypedError ? err.publicCode : ClusterErrorCode.Internal;
  const status = CLUSTER_ERROR_STATUS[code];
  if (code === ClusterErrorCode.Internal || !(err instanceof TypedError)) {
    return { ...status, body: { error: { code, message: INTERNAL_ERROR_MESSAGE } } };
  }
  // Payload first, so a payload field can never shadow code or message.
  return { ...status, body: { error: { ...err.publicPayload(), code, message: err.message } } };
}

export function toErrorBody(err: unknown): ErrorBody {
  return errorResponse(err).body;
}
