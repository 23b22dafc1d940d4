/**
 * The answer tRPC's HTTP adapter gives a failed single call, in our error
 * formatter's shape (trpc.ts): `{error: {code, message, data}}`, `data`
 * being the DESIGN.md §7 error body with the HTTP status and the path.
 * Written by the hot paths that bypass the adapter (direct-mutation.ts) and
 * per renewal in a relayed batch, which a follower hands on as the leader
 * answered it (forward.ts).
 */
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { ApiFailure } from './api-failure.js';

export function trpcErrorAnswer(failure: ApiFailure, path: string) {
  return {
    error: { code: TRPC_ERROR_CODES_BY_KEY[failure.trpcCode], message: failure.body.error.message, data: { ...failure.body.error, httpStatus: failure.httpStatus, path } },
  };
}
