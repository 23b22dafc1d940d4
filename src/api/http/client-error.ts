/**
 * The answer to a request node:http cannot even parse (bad request line,
 * huge headers): a 400 in the API's error format, and the connection closes.
 */
import type { Server } from 'node:http';
import { ClusterErrorCode } from '../../errors/index.js';

export function answerUnparsableRequests(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({ error: { code: ClusterErrorCode.InvalidInput, message: `malformed HTTP request (${err.code ?? 'parse error'})` } });
    socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}
