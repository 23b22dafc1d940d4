/** Latency by route, and bytes in and out, of one HTTP exchange, recorded when it ends. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger, Metrics } from '../../observability/index.js';
import type { Exchange } from './exchange.js';

/** Counts what the response writes, whatever writes it (REST, tRPC, an SSE stream). */
function countSentBytes(res: ServerResponse): () => number {
  let sent = 0;
  const count = (chunk: unknown) => {
    if (typeof chunk === 'string') sent += Buffer.byteLength(chunk);
    else if (chunk instanceof Uint8Array) sent += chunk.byteLength;
  };
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.write = ((...args: unknown[]) => {
    count(args[0]);
    return write(...args);
  }) as ServerResponse['write'];
  res.end = ((...args: unknown[]) => {
    if (typeof args[0] !== 'function') count(args[0]);
    return end(...args);
  }) as ServerResponse['end'];
  return () => sent;
}

export function instrumentExchange(req: IncomingMessage, res: ServerResponse, exchange: Exchange, metrics: Metrics, logger: Logger): void {
  const stop = metrics.http.requestSeconds.startTimer();
  const sentBytes = countSentBytes(res);
  let recorded = false;
  const record = () => {
    if (recorded) return;
    recorded = true;
    const method = req.method ?? 'GET';
    // A client that left before the answer is counted with status 499, as proxies do.
    const status = res.writableFinished ? res.statusCode : 499;
    const seconds = stop({ route: exchange.route, method, status });
    metrics.http.receivedBytes.inc({ route: exchange.route }, exchange.receivedBytes);
    metrics.http.sentBytes.inc({ route: exchange.route }, sentBytes());
    if (logger.isLevelEnabled('debug')) logger.debug('http request', { method, route: exchange.route, status, elapsedMs: Math.round(seconds * 1_000) });
  };
  res.once('finish', record);
  res.once('close', record);
}
