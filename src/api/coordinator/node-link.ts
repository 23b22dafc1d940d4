/**
 * The coordinator leader's calls to data nodes (the NodeLink port of
 * src/coordinator/node-link.ts) over the node's tRPC endpoint, in the wire
 * format of tRPC v11's httpLink: `POST /trpc/<procedure>` with the input as
 * the JSON body, answered `{result: {data}}` or `{error: {message, code,
 * data}}`; the health monitor's probe is the node's REST `GET /health`, and
 * its confirmations go to the other replicas' `health.confirm`. Plain
 * node:http, so the connection dials from this replica's own host (DESIGN.md
 * §1) and every call is bounded in time and in answer size.
 */
import { z } from 'zod';
import type { ConfirmAnswer, ConfirmRequest, ReplicaLink } from '../../coordinator/health/index.js';
import type { NodeLink, NodeProbe } from '../../coordinator/node-link.js';
import type { DataNodeHealth, HandoffDone, HandoffRequest } from '../../datanode/contract.js';
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';
import { exchangeJson } from '../http/json-exchange.js';
import { webOrigin } from '../../tls/web.js';

export interface HttpNodeLinkOptions {
  /** Outgoing connections dial from this address. */
  readonly localAddress?: string | undefined;
  /** Sent on every call (`Bearer <internal token>` when the cluster has auth): other replicas check it. */
  readonly authorization?: string | undefined;
}

/** A node's answers to the leader are a few fields. */
const MAX_ANSWER_BYTES = 64 * 1024;

// A node of an older version answers without caughtUp: not known to be caught up, so its copy resyncs.
const handoffDone = z.object({ lastSeq: z.number().int().min(0), caughtUp: z.boolean().default(false) });
const answerSchema = z.union([
  z.object({ result: z.object({ data: z.unknown() }) }),
  z.object({ error: z.object({ message: z.string(), data: z.looseObject({ code: z.string() }).optional() }) }),
]);

// The port restates the contract's shapes (src/coordinator may not import src/datanode): this fails to compile if they drift.
type PortHandoff = Parameters<NodeLink['handoff']>[1];
const requestsAgree: HandoffRequest extends PortHandoff ? (PortHandoff extends HandoffRequest ? true : false) : false = true;
const answersAgree: HandoffDone extends Awaited<ReturnType<NodeLink['handoff']>> ? true : false = true;
const healthAgrees: DataNodeHealth extends NodeProbe ? (NodeProbe extends DataNodeHealth ? true : false) : false = true;
void requestsAgree;
void answersAgree;
void healthAgrees;

/** A node's `GET /health` (DataNodeHealth), checked field by field: the monitor acts on it. */
const nodeHealthSchema = z.object({
  status: z.enum(['ok', 'starting', 'draining']),
  id: z.string().min(1).max(128),
  lease: z.object({
    valid: z.boolean(),
    remainingMs: z.number().min(0),
    leader: z.string().max(128).nullable(),
    term: z.number().int().min(0).nullable(),
  }),
});

/** A replica's answer to `health.confirm`. */
const confirmAnswerSchema = z.object({ reachable: z.boolean(), error: z.string().max(2_000).optional() });

function failed(address: string, procedure: string, why: string, peer = 'node'): ClusterError {
  return new ClusterError({ code: ClusterErrorCode.Unavailable, reason: `${peer} at ${address}: ${why}` }, `${procedure} on the ${peer} at ${address} failed: ${why}`);
}

/** The answer's status and JSON body (undefined when it is not JSON); UNAVAILABLE naming the peer when there is none. */
async function peerJson(
  address: string,
  call: { readonly method: 'GET' | 'POST'; readonly path: string; readonly body?: string; readonly what: string; readonly peer: string; readonly authorization?: string | undefined },
  timeoutMs: number,
  localAddress: string | undefined,
): Promise<{ readonly statusCode: number; readonly json: unknown }> {
  const o = await exchangeJson({
    method: call.method,
    url: `${webOrigin(address)}${call.path}`,
    ...(call.body === undefined ? {} : { body: call.body }),
    ...(call.authorization === undefined ? {} : { headers: { authorization: call.authorization } }),
    localAddress,
    timeoutMs,
    maxAnswerBytes: MAX_ANSWER_BYTES,
  });
  if (o.kind === 'answer') return o;
  throw failed(address, call.what, o.kind === 'timeout' ? `no answer within ${timeoutMs} ms` : o.why, call.peer);
}

/** Posts one tRPC mutation to a node (or, `peer` says, another process); resolves with the answer's data. */
export async function postNodeProcedure(
  address: string,
  procedure: string,
  input: unknown,
  timeoutMs: number,
  localAddress?: string,
  peer = 'node',
  authorization?: string,
): Promise<unknown> {
  const call = { method: 'POST' as const, path: `/trpc/${procedure}`, body: JSON.stringify(input), what: procedure, peer, authorization };
  const { statusCode, json } = await peerJson(address, call, timeoutMs, localAddress);
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success) throw failed(address, procedure, `HTTP ${statusCode} with an unexpected body`, peer);
  if ('result' in parsed.data) return parsed.data.result.data;
  const error = parsed.data.error;
  throw failed(address, procedure, `${error.data?.code ?? 'error'}: ${error.message}`, peer);
}

/** GETs a node's REST view (`/health`); resolves with the parsed JSON of a 200 answer. */
export async function getNodeView(address: string, path: string, timeoutMs: number, localAddress?: string): Promise<unknown> {
  const what = `GET ${path}`;
  const { statusCode, json } = await peerJson(address, { method: 'GET', path, what, peer: 'node' }, timeoutMs, localAddress);
  if (statusCode !== 200 || json === undefined) throw failed(address, what, `HTTP ${statusCode}${json === undefined ? ' with a body that is not JSON' : ''}`);
  return json;
}

export function createHttpNodeLink(options: HttpNodeLinkOptions = {}): NodeLink {
  return {
    async handoff(address, req, timeoutMs) {
      const data = await postNodeProcedure(address, 'handoff', { shard: req.shard, epoch: req.epoch } satisfies HandoffRequest, timeoutMs, options.localAddress, 'node', options.authorization);
      const done = handoffDone.safeParse(data);
      if (!done.success) throw failed(address, 'handoff', 'answered without a lastSeq');
      return done.data;
    },
    async probe(address, timeoutMs) {
      const health = nodeHealthSchema.safeParse(await getNodeView(address, '/health', timeoutMs, options.localAddress));
      if (!health.success) throw failed(address, 'GET /health', 'answered something that is not a node health');
      return health.data;
    },
  };
}

/** The leader's calls to other coordinator replicas for the health monitor: `health.confirm` over their tRPC endpoint. */
export function createHttpReplicaLink(options: HttpNodeLinkOptions = {}): ReplicaLink {
  return {
    async confirm(apiAddress, req, timeoutMs): Promise<ConfirmAnswer> {
      const input: ConfirmRequest = { nodeId: req.nodeId, address: req.address };
      const data = await postNodeProcedure(apiAddress, 'health.confirm', input, timeoutMs, options.localAddress, 'replica', options.authorization);
      const answer = confirmAnswerSchema.safeParse(data);
      if (!answer.success) throw failed(apiAddress, 'health.confirm', 'answered without `reachable`', 'replica');
      return answer.data.error === undefined ? { reachable: answer.data.reachable } : { reachable: answer.data.reachable, error: answer.data.error };
    },
  };
}
