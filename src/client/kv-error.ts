/** The one error the KV client throws: the cluster's answer (or the client's own refusal) with its code and status. */

/** What one attempt of a call met, for the message of the error that ends it. */
export interface KvAttempt {
  /** The node (`n1 127.0.0.1:8081`) or `coordinators` (a table read). */
  readonly target: string;
  readonly code: string;
  readonly description: string;
  /** A table read that reached no coordinator at all (no answer of any kind). */
  readonly reachedNoCoordinator?: boolean;
}

export interface KvErrorInit {
  /** A §7 code: INVALID_INPUT, NOT_FOUND, STALE_EPOCH, UNAVAILABLE (also: no answer at all), TIMEOUT (no answer in time) … */
  readonly code: string;
  /** The HTTP status of the answer; 0 when there was none (refused locally, no connection, no answer in time). */
  readonly status: number;
  readonly message: string;
  readonly key: string;
  /** The other fields of the answer's error body (`currentEpoch`, `primary`, `limitBytes` …). */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly attempts?: readonly KvAttempt[];
  /** The call gave up after retries (its attempts or its deadline ran out), rather than meeting an answer that stands. */
  readonly retriesExhausted?: boolean;
  readonly cause?: unknown;
}

export class KvError extends Error {
  override readonly name = 'KvError';
  readonly code: string;
  readonly status: number;
  readonly key: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly attempts: readonly KvAttempt[];
  readonly retriesExhausted: boolean;
  /** Every attempt was a table read that reached no coordinator: the cluster was not reached at all. */
  readonly coordinatorsUnreachable: boolean;
  /** The shape of the cluster client's errors, so that `errorCodeOf` and `describeClientError` read this one too. */
  readonly data: { readonly code: string; readonly httpStatus: number; readonly message: string };

  constructor(init: KvErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    this.key = init.key;
    this.details = init.details ?? {};
    this.attempts = init.attempts ?? [];
    this.retriesExhausted = init.retriesExhausted ?? false;
    this.coordinatorsUnreachable = this.attempts.length > 0 && this.attempts.every((a) => a.reachedNoCoordinator === true);
    this.data = { code: init.code, httpStatus: init.status, message: init.message };
  }
}

export function isKvError(err: unknown, code?: string): err is KvError {
  return err instanceof KvError && (code === undefined || err.code === code);
}
