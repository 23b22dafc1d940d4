/** Writing an answer, safe to call when the client has already gone. */
import type { ServerResponse } from 'node:http';

export function sendBody(res: ServerResponse, status: number, contentType: string, body: string, headers: Readonly<Record<string, string>> = {}): number {
  if (res.headersSent || res.writableEnded || res.destroyed) return 0;
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': bytes.length, 'Cache-Control': 'no-store' });
  res.end(bytes);
  return bytes.length;
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Readonly<Record<string, string>> = {}): number {
  return sendBody(res, status, 'application/json; charset=utf-8', JSON.stringify(value), headers);
}
