/** A REST request body as JSON: the media type checked, the syntax error located. */
import type { IncomingMessage } from 'node:http';
import { findJsonSyntaxProblem } from '../../config/index.js';
import { badRequest } from '../coordinator/errors/invalid-input.js';
import { HttpError, HttpErrorCode } from '../coordinator/errors/http-error.js';
import { MAX_BODY_BYTES } from '../coordinator/limits.js';
import { readBody } from './read-body.js';

/** `application/json`, or any `+json` type, with or without parameters (charset). */
export function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type);
}

/** Whether the request comes with a body (declared non-empty, or chunked). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * The parsed body. An empty body counts as `{}`, so a request without one
 * is told which fields are missing rather than that JSON is missing.
 */
export async function readJsonBody(req: IncomingMessage): Promise<{ value: unknown; bytes: number }> {
  const contentType = req.headers['content-type'];
  // Refused before reading: there is no point in buffering a megabyte of something else.
  if (hasBody(req) && !isJsonMediaType(contentType)) {
    throw new HttpError(
      HttpErrorCode.UnsupportedMediaType,
      `expected a JSON body with Content-Type: application/json, got ${contentType === undefined ? 'no Content-Type' : JSON.stringify(contentType)}`,
    );
  }
  const raw = await readBody(req, MAX_BODY_BYTES);
  if (raw.length === 0) return { value: {}, bytes: 0 };
  const text = raw.toString('utf8');
  try {
    return { value: JSON.parse(text) as unknown, bytes: raw.length };
  } catch {
    const where = findJsonSyntaxProblem(text);
    throw badRequest(where ? `body: not valid JSON at line ${where.line}, column ${where.column}: ${where.problem}` : 'body: not valid JSON');
  }
}
