/**
 * A request's path and query as the client sent them. The path is not put
 * through URL parsing, which would resolve `.` and `..` segments and so turn
 * the key `a/../b` into `b`: a key is whatever follows `/data/`, byte for byte,
 * percent-decoded once.
 */
import { keyProblem } from '../../common/data-key.js';
import { describeValue } from '../../config/index.js';
import { badRequest } from '../coordinator/errors/invalid-input.js';

export interface RequestTarget {
  /** Still percent-encoded. */
  readonly rawPath: string;
  readonly query: URLSearchParams;
}

export const DATA_PREFIX = '/data/';

export function requestTarget(url: string | undefined): RequestTarget {
  let target = url ?? '/';
  // The absolute form (`GET http://host/path`), which proxies send: keep only the path and query.
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i.exec(target);
  if (origin !== null) target = target.slice(origin[0].length) || '/';
  const at = target.indexOf('?');
  const rawPath = at === -1 ? target : target.slice(0, at);
  return { rawPath, query: new URLSearchParams(at === -1 ? '' : target.slice(at + 1)) };
}

/** The key of a `/data/<key>` path: percent-decoded as UTF-8, and checked against the key rule. */
export function dataKeyOf(rawPath: string): string {
  const encoded = rawPath.slice(DATA_PREFIX.length);
  let key: string;
  try {
    key = decodeURIComponent(encoded);
  } catch {
    throw badRequest(`key: malformed percent-encoding or invalid UTF-8 in ${describeValue(encoded)}`);
  }
  const problem = keyProblem(key);
  if (problem !== undefined) throw badRequest(problem);
  return key;
}

/** `?epoch=N`: the shard epoch the caller routed by. */
export function epochOf(query: URLSearchParams): number | undefined {
  const text = query.get('epoch');
  if (text === null) return undefined;
  const epoch = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(epoch)) throw badRequest(`epoch: expected an integer ≥ 0, got ${describeValue(text)}`);
  return epoch;
}
