/**
 * `POST /peer/replicate`: the lean replication path between data nodes
 * (src/datanode/wire/replication-frame.ts). The body is one binary frame,
 * read up to the node's peer body limit and decoded with every bound
 * checked; the answer is `{ackedSeq}` or the §7 error body of whatever the
 * engine refused, with the same codes and payloads as the tRPC `replicate`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeReplicationFrame, REPLICATION_FRAME_CONTENT_TYPE } from '../../datanode/wire/replication-frame.js';
import type { Exchange } from '../http/exchange.js';
import { readBody } from '../http/read-body.js';
import { sendJson } from '../http/send.js';
import { badRequest } from '../coordinator/errors/invalid-input.js';
import { HttpError, HttpErrorCode } from '../coordinator/errors/http-error.js';
import { sendErrorAnswer } from '../http/error-answer.js';
import type { NodeApiContext } from './context.js';
import { checkReplicationSender } from './peer-checks.js';
import { MAX_OPS_PER_BATCH, MAX_SHARD_ID } from './limits.js';

export const REPLICATE_PATH = '/peer/replicate';

export async function answerReplicate(req: IncomingMessage, res: ServerResponse, exchange: Exchange, ctx: NodeApiContext): Promise<void> {
  exchange.route = REPLICATE_PATH;
  let bodyRead = false;
  try {
    if (req.method !== 'POST') throw new HttpError(HttpErrorCode.MethodNotAllowed, `${req.method ?? 'GET'} is not allowed on ${REPLICATE_PATH} (allowed: POST)`, { allowed: ['POST'] });
    const type = req.headers['content-type'];
    if (type !== REPLICATION_FRAME_CONTENT_TYPE) throw badRequest(`content-type: expected ${REPLICATION_FRAME_CONTENT_TYPE}, got ${type === undefined ? 'none' : JSON.stringify(type.slice(0, 100))}`);
    const body = await readBody(req, ctx.maxTrpcBodyBytes);
    bodyRead = true;
    exchange.receivedBytes = body.length;
    const batch = decodeReplicationFrame(body, { maxOps: MAX_OPS_PER_BATCH, maxShard: MAX_SHARD_ID, maxValueBytes: ctx.maxValueBytes() });
    checkReplicationSender(ctx, batch);
    const ack = await ctx.service.replicate(batch);
    sendJson(res, 200, { ackedSeq: ack.ackedSeq });
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendErrorAnswer(req, res, err, { route: REPLICATE_PATH, bodyRead, logger: ctx.logger, metrics: ctx.metrics });
  }
}
