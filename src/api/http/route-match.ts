/**
 * Matching a request path against REST route patterns: `/nodes/:id/info`
 * (one segment per parameter) and `/data/*key` (the rest of the path, for
 * keys that contain slashes). Segments are percent-decoded one by one, so an
 * encoded `/` stays inside its segment.
 */
import type { IncomingMessage } from 'node:http';
import { badRequest } from '../coordinator/errors/invalid-input.js';

type Segment = { kind: 'literal'; text: string } | { kind: 'param'; name: string } | { kind: 'rest'; name: string };

export interface CompiledPattern {
  readonly pattern: string;
  readonly segments: readonly Segment[];
}

export function compilePattern(pattern: string): CompiledPattern {
  const segments = pattern
    .split('/')
    .slice(1)
    .map((s): Segment => (s.startsWith(':') ? { kind: 'param', name: s.slice(1) } : s.startsWith('*') ? { kind: 'rest', name: s.slice(1) } : { kind: 'literal', text: s }));
  return { pattern, segments };
}

/** The decoded segments of a URL path; a trailing slash is ignored. Throws INVALID_INPUT on malformed percent-encoding. */
export function pathSegments(pathname: string): string[] {
  const raw = pathname.split('/').slice(1);
  if (raw.length > 1 && raw.at(-1) === '') raw.pop();
  return raw.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw badRequest(`path: malformed percent-encoding in ${JSON.stringify(s)}`);
    }
  });
}

/** The parameters if the path matches, else undefined. Empty segments never match a parameter. */
export function matchPattern(compiled: CompiledPattern, segments: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < compiled.segments.length; i++) {
    const want = compiled.segments[i] as Segment;
    if (want.kind === 'rest') {
      const rest = segments.slice(i);
      if (rest.length === 0 || rest.every((s) => s === '')) return undefined;
      params[want.name] = rest.join('/');
      return params;
    }
    const got = segments[i];
    if (got === undefined) return undefined;
    if (want.kind === 'literal') {
      if (got !== want.text) return undefined;
    } else {
      if (got === '') return undefined;
      params[want.name] = got;
    }
  }
  return segments.length === compiled.segments.length ? params : undefined;
}

/** The method a route is looked up by: HEAD is GET without a body (node:http leaves the body out by itself). */
export function requestMethod(req: IncomingMessage): string {
  return req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
}
