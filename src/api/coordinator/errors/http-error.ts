/**
 * Errors of the HTTP protocol itself (wrong method, wrong media type, a
 * route that is not implemented), which src/errors' vocabulary has no code for:
 * they are about the request's form, never about the cluster, so they stay
 * local to the API layer and answer in the same `{error: {code, message}}`
 * body as every other error.
 */
import type { ClusterErrorCode, ErrorStatus, PublicValue } from '../../../errors/index.js';

export enum HttpErrorCode {
  MethodNotAllowed = 'METHOD_NOT_ALLOWED',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  NotImplemented = 'NOT_IMPLEMENTED',
}

export const HTTP_ERROR_STATUS: Readonly<Record<HttpErrorCode, ErrorStatus>> = {
  [HttpErrorCode.MethodNotAllowed]: { httpStatus: 405, trpcCode: 'METHOD_NOT_SUPPORTED' },
  [HttpErrorCode.UnsupportedMediaType]: { httpStatus: 415, trpcCode: 'UNSUPPORTED_MEDIA_TYPE' },
  [HttpErrorCode.NotImplemented]: { httpStatus: 501, trpcCode: 'NOT_IMPLEMENTED' },
};

/** Every `code` an API error body can carry. */
export type ApiErrorCode = ClusterErrorCode | HttpErrorCode;

export class HttpError extends Error {
  override readonly name = 'HttpError';

  constructor(
    readonly code: HttpErrorCode,
    message: string,
    /** Extra fields of the body (`allowed` methods …); primitives only, like every error payload. */
    readonly fields: Readonly<Record<string, PublicValue>> = {},
  ) {
    super(message);
  }
}
