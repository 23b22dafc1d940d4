/**
 * The answer to a request node:http cannot take as a request: headers over
 * the limit (431), headers or body not received in time (408), anything else
 * it cannot parse (400) — in the API's error format, and the connection closes.
 */
import type { Server } from 'node:http';
import { ClusterErrorCode } from '../../errors/index.js';

interface Refusal {
  readonly status: number;
  readonly reason: string;
  readonly code: ClusterErrorCode;
  readonly message: string;
}

function refusalFor(err: NodeJS.ErrnoException): Refusal {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'Request Header Fields Too Large', code: ClusterErrorCode.PayloadTooLarge, message: 'request headers over the size limit' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'Request Timeout', code: ClusterErrorCode.Timeout, message: 'the request was not received in time' };
    default:
      return { status: 400, reason: 'Bad Request', code: ClusterErrorCode.InvalidInput, message: `malformed HTTP request (${err.code ?? 'parse error'})` };
  }
}

/**
 * How often node:http looks for connections past their header or request
 * timeout. Its default (30 s) would let a client dribbling headers hold a
 * connection three times longer than the timeout says.
 */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

export function answerUnparsableRequests(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const { status, reason, code, message } = refusalFor(err);
    const body = JSON.stringify({ error: { code, message } });
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}
