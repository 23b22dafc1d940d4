/** Reads a request (or response) body into memory, refusing to hold more than a limit. */
import type { IncomingMessage } from 'node:http';
import { ClusterError, ClusterErrorCode } from '../../../errors/index.js';

function tooLarge(limitBytes: number, sizeBytes?: number): ClusterError {
  const size = sizeBytes === undefined ? '' : ` (${sizeBytes} bytes)`;
  return new ClusterError(
    { code: ClusterErrorCode.PayloadTooLarge, limitBytes, ...(sizeBytes === undefined ? {} : { sizeBytes }) },
    `body over the limit of ${limitBytes} bytes${size}`,
  );
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
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        cleanup();
        stream.pause();
        reject(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
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
