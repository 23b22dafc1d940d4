/**
 * The leader's error answer to a forwarded call, passed on unchanged: the
 * client sees the leader's code, message, fields and status, exactly as if
 * it had asked the leader itself.
 */
import type { TrpcErrorCode } from '../../../errors/index.js';
import type { ApiErrorBody } from './api-failure.js';

export class ForwardedError extends Error {
  override readonly name = 'ForwardedError';

  constructor(
    readonly httpStatus: number,
    readonly trpcCode: TrpcErrorCode,
    readonly body: ApiErrorBody,
  ) {
    super(body.error.message);
  }
}
