/**
 * One request to a coordinator's `/data/<key>` for the REST clients of the
 * workload, through the smart client's own raw exchange and answer reading
 * (src/client/kv-http.ts, kv-answer.ts), on a fresh connection each time (no
 * pooled socket to a killed or stopped process).
 */
import http from 'node:http';
import { classifyAnswer } from '../../src/client/kv-answer.js';
import { sendRaw } from '../../src/data-wire/http-exchange.js';

export interface DataAnswer {
  /** 0: no answer. */
  readonly status: number;
  /** A GET's value (null: no such key), when it got one. */
  readonly value: string | null;
  /** The `{error: {code}}` of an error answer. */
  readonly code: string | undefined;
  /** The connection was refused: the request never reached the coordinator. */
  readonly refused: boolean;
}

/** Keep-alive off: every request dials anew. */
const agent = new http.Agent({ keepAlive: false });
/** Chaos values are short tags. */
const MAX_VALUE_BYTES = 64 * 1024;

export async function dataRequest(host: string, port: number, method: 'GET' | 'PUT' | 'DELETE', key: string, value: string | undefined, timeoutMs: number): Promise<DataAnswer> {
  const body = value === undefined ? undefined : Buffer.from(value, 'utf8');
  const result = await sendRaw(agent, { host, port }, { method, path: `/data/${encodeURIComponent(key)}`, body, timeoutMs, maxBodyBytes: MAX_VALUE_BYTES });
  if (result.kind === 'no-answer') return { status: 0, value: null, code: undefined, refused: result.reason === 'connection refused' };
  const outcome = classifyAnswer(method, result);
  if (outcome.kind === 'done') return { status: 200, value: outcome.value === null ? null : outcome.value.toString('utf8'), code: undefined, refused: false };
  return { status: outcome.status, value: null, code: outcome.code, refused: false };
}
