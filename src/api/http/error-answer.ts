/**
 * Writing an error as the `{error: {code, message}}` answer of DESIGN.md §7,
 * with the headers its status calls for, for any REST handler of the API
 * layer. Logged as internal (with the error) only when it hides a bug.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger, Metrics } from '../../observability/index.js';
import type { ApiFailure } from '../coordinator/errors/api-failure.js';
import { describeError, isInternal } from '../coordinator/errors/describe-error.js';
import { hasBody } from './json-body.js';
import { sendJson } from './send.js';

/**
 * A client that sends its whole body before reading the answer (most do)
 * would meet a reset instead of our 413 if the connection closed at once:
 * the rest of the body is discarded (Node dumps it once the answer is out),
 * for this long at most, and then the connection is cut.
 */
const UNREAD_BODY_GRACE_MS = 2_000;
/** A declared body up to this size is drained before the answer; a larger one is answered at once. */
const MAX_DRAINED_BODY_BYTES = 64 * 1024 * 1024;

export interface ErrorAnswerContext {
  readonly route: string;
  /** Whether the request's body was read to its end; one that was not is not drained, the connection closes instead. */
  readonly bodyRead: boolean;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

function retryAfterSeconds(failure: ApiFailure): string | undefined {
  const ms = failure.body.error['retryAfterMs'];
  return typeof ms === 'number' && ms > 0 ? String(Math.ceil(ms / 1_000)) : undefined;
}

export function sendErrorAnswer(req: IncomingMessage, res: ServerResponse, err: unknown, context: ErrorAnswerContext): ApiFailure {
  const failure = describeError(err);
  const { route, logger, metrics } = context;
  metrics.http.errors.inc({ code: failure.body.error.code });
  if (isInternal(failure)) logger.error('internal error answering a REST request', { err, method: req.method, route });
  else logger.debug('REST request refused', { method: req.method, route, code: failure.body.error.code, status: failure.httpStatus });
  const headers: Record<string, string> = {};
  const allowed = failure.body.error['allowed'];
  if (failure.httpStatus === 405 && Array.isArray(allowed)) headers['Allow'] = allowed.join(', ');
  const retryAfter = retryAfterSeconds(failure);
  if (retryAfter !== undefined) headers['Retry-After'] = retryAfter;
  if (!context.bodyRead && hasBody(req) && !req.complete) {
    headers['Connection'] = 'close';
    // Answered before the body was read. A client that sends its whole body before reading the answer
    // (most do) meets a reset if the socket closes while it still sends. A body of declared, drainable size
    // is read and discarded (never buffered) and the answer goes out when it ends; any other (streamed,
    // huge) is answered at once and discarded until the grace runs out.
    const declared = Number(req.headers['content-length']);
    const drain = Number.isInteger(declared) && declared <= MAX_DRAINED_BODY_BYTES;
    let sent = false;
    const send = () => {
      if (sent) return;
      sent = true;
      sendJson(res, failure.httpStatus, failure.body, headers);
    };
    const grace = setTimeout(() => (drain ? send() : req.socket.destroy()), UNREAD_BODY_GRACE_MS);
    grace.unref();
    const done = () => {
      clearTimeout(grace);
      send();
    };
    req.once('end', done);
    req.once('close', done);
    req.resume();
    if (!drain) send();
    return failure;
  }
  sendJson(res, failure.httpStatus, failure.body, headers);
  return failure;
}
