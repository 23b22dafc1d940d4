/**
 * The hot tRPC mutations (a lease renewal from every node, four times a
 * second each) answered through createCaller instead of tRPC's HTTP adapter,
 * which builds a Fetch Request, an AbortSignal and a web stream per call:
 * on a leader with a thousand nodes that was most of its CPU. The wire is
 * tRPC's own (httpLink): `POST /trpc/<path>` with the input as the JSON body,
 * answered `{result: {data}}` or `{error: {code, message, data}}` with the
 * shape and status the router's error formatter gives (trpc.ts), so clients
 * cannot tell the difference. Middlewares (normalized errors, forwarding to
 * the leader) and input schemas run as for any call.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiContext } from './context.js';
import { createAppCaller } from './caller.js';
import { describeError, isInternal } from './errors/describe-error.js';
import { badRequest } from './errors/invalid-input.js';
import { trpcErrorAnswer } from './errors/trpc-error-answer.js';
import { readBody } from '../http/read-body.js';
import { sendJson } from '../http/send.js';

/** The procedures answered here, and how to call each. */
const DIRECT: Readonly<Record<string, (caller: ReturnType<typeof createAppCaller>, input: unknown) => Promise<unknown>>> = {
  'nodes.renewLease': (caller, input) => caller.nodes.renewLease(input as Parameters<typeof caller.nodes.renewLease>[0]),
  'nodes.renewLeases': (caller, input) => caller.nodes.renewLeases(input as Parameters<typeof caller.nodes.renewLeases>[0]),
};

/** A renewal's input is a few fields (and at most one recovery and load entry per shard); a relayed batch holds many. */
const MAX_INPUT_BYTES = 8 * 1024 * 1024;

/** Whether `POST <pathname>` (no query: not a batch) is answered here. */
export function isDirectMutation(method: string | undefined, pathname: string, search: string, prefix: string): boolean {
  return method === 'POST' && search === '' && pathname.startsWith(`${prefix}/`) && Object.hasOwn(DIRECT, pathname.slice(prefix.length + 1));
}

export async function handleDirectMutation(req: IncomingMessage, res: ServerResponse, path: string, ctx: ApiContext): Promise<void> {
  const call = DIRECT[path]!;
  try {
    const body = await readBody(req, MAX_INPUT_BYTES);
    let input: unknown;
    try {
      input = body.length === 0 ? undefined : JSON.parse(body.toString('utf8'));
    } catch {
      throw badRequest('body: not valid JSON');
    }
    const data = await call(createAppCaller(ctx), input);
    sendJson(res, 200, { result: { data } });
  } catch (err) {
    const failure = describeError(err);
    ctx.metrics.http.errors.inc({ code: failure.body.error.code });
    if (isInternal(failure)) ctx.logger.error('internal error answering a tRPC call', { err: err instanceof Error ? (err.cause ?? err) : err, path });
    sendJson(res, failure.httpStatus, trpcErrorAnswer(failure, path));
  }
}
