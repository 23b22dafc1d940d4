/** Reads a request (or response) body into memory, refusing to hold more than a limit. */
import type { IncomingMessage } from 'node:http';
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';

/** PAYLOAD_TOO_LARGE for a body (or a value within one) over `limitBytes`. */
export function tooLarge(limitBytes: number, sizeBytes?: number): ClusterError {
  const size = sizeBytes === undefined ? '' : ` (${sizeBytes} bytes)`;
  return new ClusterError(
    { code: ClusterErrorCode.PayloadTooLarge, limitBytes, ...(sizeBytes === undefined ? {} : { sizeBytes }) },
    `body over the limit of ${limitBytes} bytes${size}`,
  );
}

/**
 * Bytes held by every body being read in this process at once. Each body
 * has its own limit; this one keeps many concurrent bodies, each under its
 * limit, from adding up to more memory than the process has. A read that
 * would pass it is refused (OVERLOADED, 429) unless it is the only one
 * holding bytes, so a single body up to its own limit always gets through.
 */
export const MAX_BUFFERED_BYTES = 512 * 1024 * 1024;
let bufferedBytes = 0;

/** Bytes all reads in progress hold now (for tests and metrics). */
export function bufferedBodyBytes(): number {
  return bufferedBytes;
}

function overloaded(): ClusterError {
  return new ClusterError({ code: ClusterErrorCode.Overloaded, retryAfterMs: 100 }, `more than ${MAX_BUFFERED_BYTES} bytes of request bodies buffered in this process; retry shortly`);
}

/**
 * A declared Content-Length over the limit is refused before a byte is read;
 * a body without one (chunked) is refused as soon as it passes the limit, and
 * the rest is not read: the caller answers 413 and closes the connection.
 */
export function readBody(stream: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = stream.headers['content-length'];
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > limitBytes) {
    return Promise.reject(tooLarge(limitBytes, Number(declared)));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      bufferedBytes -= size;
      size = 0;
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > limitBytes) {
        cleanup();
        stream.pause();
        reject(tooLarge(limitBytes));
        return;
      }
      if (bufferedBytes + chunk.length > MAX_BUFFERED_BYTES && bufferedBytes !== size) {
        cleanup();
        stream.pause();
        reject(overloaded());
        return;
      }
      size += chunk.length;
      bufferedBytes += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = () => {
      const body = Buffer.concat(chunks, size);
      cleanup();
      resolve(body);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onAborted = () => onError(new Error('the peer closed the connection before the body ended'));
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('aborted', onAborted);
  });
}
