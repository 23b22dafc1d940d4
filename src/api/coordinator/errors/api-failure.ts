/** An error answer as the API sends it: HTTP status, tRPC code and the DESIGN.md §7 body. */
import type { PublicValue, TrpcErrorCode } from '../../../errors/index.js';
import type { ApiErrorCode } from './http-error.js';

export interface ApiErrorBody {
  readonly error: {
    /** An ApiErrorCode; typed as string too because a forwarded answer carries whatever the leader's version sent. */
    readonly code: ApiErrorCode | (string & {});
    readonly message: string;
    readonly [field: string]: PublicValue;
  };
}

export interface ApiFailure {
  readonly httpStatus: number;
  readonly trpcCode: TrpcErrorCode;
  readonly body: ApiErrorBody;
}
