/**
 * `POST /data-batch`: several data-path requests to this node in one
 * exchange (src/data-wire/batch-frame.ts). Each request is checked,
 * authorised and carried out exactly as it would be on its own, side by
 * side with the others, and answered with the status and body it would have
 * got; one refused request refuses nothing else. Only the frame itself, the
 * method and the credentials are answered for the whole batch.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DecodeError } from '../../common/bytes.js';
import { DATA_BATCH_CONTENT_TYPE, DATA_BATCH_PATH, decodeDataBatchRequests, encodeDataBatchAnswers, type DataBatchAnswer, type DataBatchRequest } from '../../data-wire/batch-frame.js';
import { requireAccess, type RequestAuth } from '../auth/index.js';
import { badRequest } from '../coordinator/errors/invalid-input.js';
import { describeError, isInternal } from '../coordinator/errors/describe-error.js';
import type { Exchange } from '../http/exchange.js';
import { sendErrorAnswer } from '../http/error-answer.js';
import { readBody, tooLarge } from '../http/read-body.js';
import type { NodeApiContext } from './context.js';
import { checkDataRequest, noRoute, notAllowed, runDataRequest } from './data-op.js';
import { DATA_PREFIX, requestTarget } from './request-target.js';

const EMPTY = new Uint8Array(0);
const utf8 = new TextEncoder();

function refusedAnswer(err: unknown, ctx: NodeApiContext, method: string): DataBatchAnswer {
  const failure = describeError(err);
  ctx.metrics.http.errors.inc({ code: failure.body.error.code });
  if (isInternal(failure)) ctx.logger.error('internal error answering a batched data request', { err, method });
  return { status: failure.httpStatus, body: utf8.encode(JSON.stringify(failure.body)) };
}

/** One request of the batch, answered as it would be on its own. */
async function answerOne(request: DataBatchRequest, ctx: NodeApiContext, auth: RequestAuth | undefined): Promise<DataBatchAnswer> {
  try {
    const target = requestTarget(request.target);
    if (!target.rawPath.startsWith(DATA_PREFIX)) throw noRoute(request.method, target.rawPath);
    requireAccess(auth, request.method === 'GET' ? 'reader' : 'writer', request.method === 'GET' ? 'reading /data' : 'writing /data');
    const checked = checkDataRequest(request.method, target);
    const value = request.value;
    const limitBytes = ctx.maxValueBytes();
    if (value !== undefined && value.length > limitBytes) throw tooLarge(limitBytes, value.length);
    const found = await runDataRequest(ctx.service, request.method, checked, value);
    return found === undefined ? { status: 204, body: EMPTY } : { status: 200, body: found };
  } catch (err) {
    return refusedAnswer(err, ctx, request.method);
  }
}

/** `auth`: how the request authenticated when the cluster has auth (a failure is answered per request, 401 like each alone). */
export async function answerDataBatch(req: IncomingMessage, res: ServerResponse, exchange: Exchange, ctx: NodeApiContext, auth: RequestAuth | undefined): Promise<void> {
  exchange.route = DATA_BATCH_PATH;
  let bodyRead = false;
  try {
    if (req.method !== 'POST') throw notAllowed(req.method ?? 'GET', DATA_BATCH_PATH, ['POST']);
    const type = req.headers['content-type'];
    if (type !== DATA_BATCH_CONTENT_TYPE) throw badRequest(`content-type: expected ${DATA_BATCH_CONTENT_TYPE}, got ${type === undefined ? 'none' : JSON.stringify(type.slice(0, 100))}`);
    // Credentials that fail refuse the whole batch before its body is read, as they would each request.
    if (auth?.enforced === true && auth.principal === null) requireAccess(auth, 'reader', 'the data path');
    const body = await readBody(req, ctx.maxTrpcBodyBytes);
    bodyRead = true;
    exchange.receivedBytes = body.length;
    let requests: DataBatchRequest[];
    try {
      requests = decodeDataBatchRequests(body);
    } catch (err) {
      if (err instanceof DecodeError) throw badRequest(`data batch: ${err.message}`);
      throw err;
    }
    const answers = await Promise.all(requests.map((r) => answerOne(r, ctx, auth)));
    const frame = encodeDataBatchAnswers(answers);
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(200, { 'Content-Type': DATA_BATCH_CONTENT_TYPE, 'Content-Length': frame.byteLength, 'Cache-Control': 'no-store' });
    res.end(frame);
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendErrorAnswer(req, res, err, { route: DATA_BATCH_PATH, bodyRead, logger: ctx.logger, metrics: ctx.metrics });
  }
}
