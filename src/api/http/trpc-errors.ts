/**
 * What a tRPC error middleware of the API layer turns a failed call into:
 * the domain error behind it, with a schema failure worded as INVALID_INPUT
 * naming each field and what was found there; and the error shape every
 * router's errorFormatter answers with. Each initTRPC has its own
 * middleware and formatter; they build on these.
 */
import type { TRPCError } from '@trpc/server';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import { z } from 'zod';
import { describeError, domainErrorOf, type DomainError } from '../coordinator/errors/describe-error.js';
import { invalidInput } from '../coordinator/errors/invalid-input.js';
import type { ApiErrorShape } from '../coordinator/trpc.js';

/** The input as sent, or undefined when it cannot be read (the body was the problem). */
export async function rawInputOf(getRawInput: () => Promise<unknown>): Promise<unknown> {
  try {
    return await getRawInput();
  } catch {
    return undefined;
  }
}

export async function domainErrorOfCall(error: TRPCError, getRawInput: () => Promise<unknown>): Promise<DomainError | undefined> {
  if (error.code === 'BAD_REQUEST' && error.cause instanceof z.core.$ZodError) return invalidInput(error.cause, await rawInputOf(getRawInput));
  return domainErrorOf(error);
}

/** The whole shape is ours: the DESIGN.md §7 body plus the HTTP status in `data`, and never a stack trace. */
export function apiErrorShape(error: unknown, path: string | undefined): ApiErrorShape {
  const failure = describeError(error);
  return {
    code: TRPC_ERROR_CODES_BY_KEY[failure.trpcCode],
    message: failure.body.error.message,
    data: { ...failure.body.error, httpStatus: failure.httpStatus, ...(path === undefined ? {} : { path }) },
  };
}
