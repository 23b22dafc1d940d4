import type { ClusterErrorCode } from './public-codes.js';

/** A value that may go into an error body as is. */
export type PublicValue = string | number | boolean | null | readonly (string | number | boolean | null)[];

/** A payload union without its codes (distributes, so each member keeps its own fields). */
export type PayloadOf<T> = T extends unknown ? Omit<T, 'code'> : never;

/**
 * Base of every domain error (Lodestar style): `type` is a discriminated
 * union `{code, ...payload}`, so a `switch (err.type.code)` narrows the
 * payload. The message is for people; the code and payload are for programs.
 */
export abstract class TypedError<T extends { readonly code: string }> extends Error {
  constructor(
    readonly type: T,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get code(): T['code'] {
    return this.type.code;
  }

  /** The payload without the code. */
  get payload(): PayloadOf<T> {
    const { code: _code, ...rest } = this.type;
    return rest as PayloadOf<T>;
  }

  /**
   * The code a client sees in the error body: a domain's internal codes
   * (config, and any layer's errors that extend this class) fold into the
   * small public vocabulary.
   */
  abstract get publicCode(): ClusterErrorCode;

  /**
   * Payload fields a client may see. Domains whose payload names internals
   * (paths, peer addresses) return less; the default shows nothing.
   */
  publicPayload(): Record<string, PublicValue> {
    return {};
  }

  /** For structured logs: code, message and the whole payload (never sent to clients). */
  toObject(): Record<string, unknown> {
    return { ...this.type, message: this.message };
  }
}

const isPrimitive = (v: unknown): v is string | number | boolean | null =>
  v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/**
 * Keeps the primitive fields (and arrays of primitives) of a payload: objects,
 * errors and functions never reach a client, whatever a payload holds.
 */
export function primitiveFields(payload: object): Record<string, PublicValue> {
  const out: Record<string, PublicValue> = {};
  for (const [key, value] of Object.entries(payload)) {
    if (isPrimitive(value)) out[key] = value;
    else if (Array.isArray(value) && value.every(isPrimitive)) out[key] = [...value];
  }
  return out;
}
