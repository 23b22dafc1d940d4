/**
 * Forwarding a leader-only call to the leader's tRPC endpoint, over plain
 * node:http so that the connection dials from this replica's own host
 * (DESIGN.md §1) and the wait is bounded.
 */
import { TRPC_ERROR_CODES_BY_NUMBER } from '@trpc/server/rpc';
import { z } from 'zod';
import { ClusterError, ClusterErrorCode, isClusterErrorCode, type PublicValue, type TrpcErrorCode } from '../../errors/index.js';
import { FORWARDED_BY_HEADER } from './context.js';
import type { CertIdentity } from '../../tls/identity.js';
import { ON_BEHALF_OF_HEADER, onBehalfOfValue } from '../http/caller-certificate.js';
import { ForwardedError } from './errors/forwarded-error.js';
import { MAX_FORWARDED_ANSWER_BYTES } from './limits.js';
import { exchangeJson } from '../http/json-exchange.js';
import { webOrigin } from '../../tls/web.js';

export interface ForwardCall {
  /** The leader's id and API address (`host:port`). */
  readonly leader: string;
  readonly address: string;
  /** The procedure, e.g. `members.add`; leader-only procedures are mutations (POST). */
  readonly path: string;
  /** The input as the client sent it: the leader validates it again. */
  readonly input: unknown;
  /** This replica's id, sent in FORWARDED_BY_HEADER. */
  readonly from: string;
  /** The certificate of the caller this replica forwards for (with TLS): the leader checks it as if the caller had called it. */
  readonly onBehalfOf?: CertIdentity | undefined;
  readonly timeoutMs: number;
  readonly localAddress?: string | undefined;
  /** The caller's own Authorization header: the leader checks the caller, not this replica. */
  readonly authorization?: string;
}

const publicValue: z.ZodType<PublicValue> = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.union([z.string(), z.number(), z.boolean(), z.null()]))]);

/** The two answers tRPC gives a single (unbatched) call; the error's data is what our error formatter writes. */
const answerSchema = z.union([
  z.object({ result: z.object({ data: z.unknown() }) }),
  z.object({
    error: z.object({
      message: z.string(),
      code: z.number(),
      data: z.looseObject({ code: z.string(), message: z.string(), httpStatus: z.number().int().min(400).max(599) }),
    }),
  }),
]);

function splitAddress(address: string): { host: string; port: number } | undefined {
  const at = address.lastIndexOf(':');
  const port = Number(address.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  const host = address.slice(0, at);
  return { host: host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host, port };
}

function unreachable(call: Pick<ForwardCall, 'leader' | 'address' | 'path'>, why: string): ClusterError {
  return new ClusterError(
    { code: ClusterErrorCode.Unavailable, reason: `leader ${call.leader} (${call.address}) unreachable: ${why}`, retryAfterMs: 100 },
    `could not forward ${call.path} to the leader ${call.leader} at ${call.address}: ${why}`,
  );
}

/** The leader's error answer, kept whole so the client sees what the leader said. */
function forwardedError(error: { code: number; data: Record<string, unknown> & { code: string; message: string; httpStatus: number } }): ForwardedError {
  const { httpStatus, path: _path, code, message, ...rest } = error.data;
  const fields: Record<string, PublicValue> = {};
  for (const [key, value] of Object.entries(rest)) {
    const parsed = publicValue.safeParse(value);
    if (parsed.success) fields[key] = parsed.data;
  }
  const trpcCode: TrpcErrorCode = (TRPC_ERROR_CODES_BY_NUMBER as Record<number, TrpcErrorCode | undefined>)[error.code] ?? 'INTERNAL_SERVER_ERROR';
  // A code this version does not know still passes (the leader may run a newer one), if it looks like a code.
  const shownCode = isClusterErrorCode(code) || /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : ClusterErrorCode.Internal;
  return new ForwardedError(httpStatus, trpcCode, { error: { ...fields, code: shownCode, message } });
}

/** The leader's result data, or its error as a ForwardedError; UNAVAILABLE or TIMEOUT when it could not be asked. */
export async function forwardToLeader(call: ForwardCall): Promise<unknown> {
  const target = splitAddress(call.address);
  if (target === undefined) throw unreachable(call, `bad address ${JSON.stringify(call.address)}`);
  const body = call.input === undefined ? '' : JSON.stringify(call.input);
  const o = await exchangeJson({
    method: 'POST',
    url: `${webOrigin(call.address)}/trpc/${call.path}`,
    body,
    headers: {
      [FORWARDED_BY_HEADER]: call.from,
      ...(call.onBehalfOf === undefined ? {} : { [ON_BEHALF_OF_HEADER]: onBehalfOfValue(call.onBehalfOf) }),
      ...(call.authorization === undefined ? {} : { authorization: call.authorization }),
    },
    localAddress: call.localAddress,
    timeoutMs: call.timeoutMs,
    maxAnswerBytes: MAX_FORWARDED_ANSWER_BYTES,
  });
  if (o.kind === 'timeout') {
    throw new ClusterError(
      { code: ClusterErrorCode.Timeout, operation: `${call.path} forwarded to ${call.leader}`, timeoutMs: call.timeoutMs },
      `the leader ${call.leader} did not answer ${call.path} within ${call.timeoutMs} ms; it may still take effect`,
    );
  }
  if (o.kind === 'failed') throw unreachable(call, o.why);
  if (o.json === undefined) throw unreachable(call, `answered HTTP ${o.statusCode} with a body that is not JSON`);
  return leaderAnswer(call, o.json, `answered HTTP ${o.statusCode} with an unexpected body`);
}

/**
 * The data of one answer in tRPC's single-call shape (a whole HTTP answer,
 * or one renewal's answer in a relayed batch), or its error as a
 * ForwardedError; UNAVAILABLE, saying `unexpected`, for anything else.
 */
export function leaderAnswer(call: Pick<ForwardCall, 'leader' | 'address' | 'path'>, json: unknown, unexpected: string): unknown {
  const answer = answerSchema.safeParse(json);
  if (!answer.success) throw unreachable(call, unexpected);
  if ('result' in answer.data) return answer.data.result.data;
  throw forwardedError(answer.data.error);
}
