/** Building a procedure's input from a REST request: path parameters, query strings and the body. */
import type { Consistency } from '../../coordinator/service.js';
import { describeValue } from '../../config/index.js';
import { badRequest } from './errors/invalid-input.js';

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The body with the path's parameters added. The body may not name them
 * itself: `PUT /nodes/n1/labels {"id": "n2"}` is a contradiction, not a
 * choice to be made silently.
 */
export function withPathParams(body: unknown, params: Readonly<Record<string, unknown>>): Record<string, unknown> {
  if (!isPlainObject(body)) throw badRequest(`body: expected a JSON object, got ${describeValue(body)}`);
  for (const key of Object.keys(params)) {
    if (Object.hasOwn(body, key)) throw badRequest(`${key}: given in the path already; leave it out of the body`);
  }
  return { ...body, ...params };
}

/**
 * A path or query value that should be a number: digits become a number,
 * anything else stays a string, so the schema says what was expected and
 * what was found (`id: expected an integer …, got "abc"`).
 */
export function numeric(value: string): number | string {
  return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
}

/** `?stale=true` (or `1`, or a bare `?stale`) selects a stale read; the default is linearizable. */
export function consistencyOf(query: URLSearchParams): Consistency {
  const stale = query.get('stale');
  if (stale === null || stale === 'false' || stale === '0') return 'linearizable';
  if (stale === 'true' || stale === '1' || stale === '') return 'stale';
  throw badRequest(`stale: expected true or false, got ${describeValue(stale)}`);
}

/**
 * Query parameters laid over the body, the body may not name them too:
 * `true`/`false` become booleans and digits numbers, anything else stays a
 * string for the procedure's schema to refuse by name.
 */
export function withQueryFlags(body: unknown, query: URLSearchParams, names: readonly string[]): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (const name of names) {
    const value = query.get(name);
    if (value === null) continue;
    if (isPlainObject(body) && Object.hasOwn(body, name)) throw badRequest(`${name}: given in the query already; leave it out of the body`);
    flags[name] = value === 'true' || value === '' ? true : value === 'false' ? false : numeric(value);
  }
  if (!isPlainObject(body)) throw badRequest(`body: expected a JSON object, got ${describeValue(body)}`);
  return { ...body, ...flags };
}

/** Query parameters a route does not read are refused, like unknown keys in a body. */
export function checkQuery(query: URLSearchParams, allowed: readonly string[]): void {
  for (const name of new Set(query.keys())) {
    if (!allowed.includes(name)) {
      const known = allowed.length === 0 ? 'this route takes none' : `the parameters here are ${allowed.join(', ')}`;
      throw badRequest(`${name}: unknown query parameter (${known})`);
    }
    if (query.getAll(name).length > 1) throw badRequest(`${name}: given more than once`);
  }
}
