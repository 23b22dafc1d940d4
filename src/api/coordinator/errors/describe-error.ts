/**
 * The one mapping from anything thrown to the answer a client gets, used by
 * the tRPC error formatter and the REST adapter alike, so both speak the
 * same codes, statuses and messages.
 */
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { ClusterError, ClusterErrorCode, errorResponse, TypedError, type TrpcErrorCode } from '../../../errors/index.js';
import { MAX_BODY_BYTES } from '../limits.js';
import type { ApiFailure } from './api-failure.js';
import { ForwardedError } from './forwarded-error.js';
import { HTTP_ERROR_STATUS, HttpError, HttpErrorCode } from './http-error.js';
import { badRequest, invalidInput } from './invalid-input.js';

/** Errors whose answer is fully known; a TRPCError that wraps one of them answers as it. */
export type DomainError = TypedError<{ code: string }> | HttpError | ForwardedError;

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof TypedError || err instanceof HttpError || err instanceof ForwardedError;
}

/** tRPC's own refusals (before any procedure ran) in our vocabulary. */
function fromTrpcCode(error: TRPCError): DomainError {
  const code: TrpcErrorCode = error.code;
  switch (code) {
    case 'PARSE_ERROR':
    case 'BAD_REQUEST':
      return badRequest(`input: ${error.message}`);
    case 'NOT_FOUND':
      return new ClusterError({ code: ClusterErrorCode.NotFound, resource: 'route' }, error.message);
    case 'METHOD_NOT_SUPPORTED':
      return new HttpError(HttpErrorCode.MethodNotAllowed, error.message);
    case 'UNSUPPORTED_MEDIA_TYPE':
      return new HttpError(HttpErrorCode.UnsupportedMediaType, error.message);
    case 'PAYLOAD_TOO_LARGE':
      return new ClusterError({ code: ClusterErrorCode.PayloadTooLarge, limitBytes: MAX_BODY_BYTES }, `request body over ${MAX_BODY_BYTES} bytes`);
    default:
      // Anything else from tRPC itself is unexpected here: INTERNAL, with its message kept out of the answer.
      return new ClusterError({ code: ClusterErrorCode.Internal }, error.message, { cause: error });
  }
}

/** The domain error behind `err`: itself, the cause a TRPCError carries, or tRPC's own refusal translated. */
export function domainErrorOf(err: unknown): DomainError | undefined {
  if (isDomainError(err)) return err;
  if (err instanceof z.core.$ZodError) return invalidInput(err, undefined);
  if (err instanceof TRPCError) {
    const cause = err.cause;
    if (isDomainError(cause)) return cause;
    if (cause instanceof z.core.$ZodError) return invalidInput(cause, undefined);
    if (err.code === 'INTERNAL_SERVER_ERROR') return undefined;
    return fromTrpcCode(err);
  }
  return undefined;
}

export function describeError(err: unknown): ApiFailure {
  const domain = domainErrorOf(err);
  if (domain instanceof ForwardedError) return { httpStatus: domain.httpStatus, trpcCode: domain.trpcCode, body: domain.body };
  if (domain instanceof HttpError) {
    const { httpStatus, trpcCode } = HTTP_ERROR_STATUS[domain.code];
    return { httpStatus, trpcCode, body: { error: { ...domain.fields, code: domain.code, message: domain.message } } };
  }
  // errorResponse hides the message of INTERNAL and of anything that is not a domain error.
  return errorResponse(domain ?? err);
}

/** Whether the answer hides a bug or an unexpected failure (to be logged with the error itself). */
export function isInternal(failure: ApiFailure): boolean {
  return failure.httpStatus >= 500 && failure.body.error.code === ClusterErrorCode.Internal;
}
