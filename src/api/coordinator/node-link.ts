/**
 * The coordinator leader's calls to data nodes (the NodeLink port of
 * src/coordinator/node-link.ts) over the node's tRPC endpoint, in the wire
 * format of tRPC v11's httpLink: `POST /trpc/<procedure>` with the input as
 * the JSON body, answered `{result: {data}}` or `{error: {message, code,
 * data}}`. Plain node:http, so the connection dials from this replica's own
 * host (DESIGN.md §1) and every call is bounded in time and in answer size.
 */
import http from 'node:http';
import { z } from 'zod';
import type { NodeLink } from '../../coordinator/node-link.js';
import type { HandoffDone, HandoffRequest } from '../../datanode/contract.js';
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';
import { readBody } from './http/read-body.js';

export interface HttpNodeLinkOptions {
  /** Outgoing connections dial from this address. */
  readonly localAddress?: string | undefined;
}

/** A node's answers to the leader are a few fields. */
const MAX_ANSWER_BYTES = 64 * 1024;

const handoffDone = z.object({ lastSeq: z.number().int().min(0) });
const answerSchema = z.union([
  z.object({ result: z.object({ data: z.unknown() }) }),
  z.object({ error: z.object({ message: z.string(), data: z.looseObject({ code: z.string() }).optional() }) }),
]);

// The port restates the contract's shapes (src/coordinator may not import src/datanode): this fails to compile if they drift.
type PortHandoff = Parameters<NodeLink['handoff']>[1];
const requestsAgree: HandoffRequest extends PortHandoff ? (PortHandoff extends HandoffRequest ? true : false) : false = true;
const answersAgree: HandoffDone extends Awaited<ReturnType<NodeLink['handoff']>> ? true : false = true;
void requestsAgree;
void answersAgree;

function failed(address: string, procedure: string, why: string): ClusterError {
  return new ClusterError({ code: ClusterErrorCode.Unavailable, reason: `node at ${address}: ${why}` }, `${procedure} on the node at ${address} failed: ${why}`);
}

/** Posts one tRPC mutation to a node; resolves with the answer's data. */
export function postNodeProcedure(address: string, procedure: string, input: unknown, timeoutMs: number, localAddress?: string): Promise<unknown> {
  const body = JSON.stringify(input);
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const req = http.request(`http://${address}/trpc/${procedure}`, {
      method: 'POST',
      localAddress,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Accept: 'application/json' },
    });
    const timer = setTimeout(() => {
      settle(() => reject(failed(address, procedure, `no answer within ${timeoutMs} ms`)));
      req.destroy();
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => settle(() => reject(failed(address, procedure, err.code ?? err.message))));
    req.on('response', (res) => {
      readBody(res, MAX_ANSWER_BYTES).then(
        (raw) => {
          let answer: z.infer<typeof answerSchema> | undefined;
          try {
            const parsed = answerSchema.safeParse(JSON.parse(raw.toString('utf8')));
            answer = parsed.success ? parsed.data : undefined;
          } catch {
            answer = undefined;
          }
          if (answer === undefined) settle(() => reject(failed(address, procedure, `HTTP ${res.statusCode} with an unexpected body`)));
          else if ('result' in answer) {
            const data = answer.result.data;
            settle(() => resolve(data));
          } else {
            const error = answer.error;
            settle(() => reject(failed(address, procedure, `${error.data?.code ?? 'error'}: ${error.message}`)));
          }
        },
        (err: unknown) => settle(() => reject(failed(address, procedure, err instanceof Error ? err.message : String(err)))),
      );
    });
    req.end(body);
  });
}

export function createHttpNodeLink(options: HttpNodeLinkOptions = {}): NodeLink {
  return {
    async handoff(address, req, timeoutMs) {
      const data = await postNodeProcedure(address, 'handoff', { shard: req.shard, epoch: req.epoch } satisfies HandoffRequest, timeoutMs, options.localAddress);
      const done = handoffDone.safeParse(data);
      if (!done.success) throw failed(address, 'handoff', 'answered without a lastSeq');
      return done.data;
    },
  };
}
