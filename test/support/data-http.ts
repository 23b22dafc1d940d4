/**
 * Raw-bytes requests to the data path (`/data/<key>` of a coordinator or a
 * data node), for the data-node tests: the value goes out and comes back
 * exactly as bytes, errors are parsed from their JSON body. A fresh
 * connection per request, so a killed or stopped process cannot hold a
 * pooled socket.
 */
import http from 'node:http';

export interface DataAnswer {
  /** 0 when there was no answer (refused, reset, timed out). */
  readonly status: number;
  readonly bytes: Buffer;
  /** The error code of a JSON error body (`{error: {code}}`), if any. */
  readonly code: string | undefined;
  /** The parsed JSON body of an error answer, or undefined. */
  readonly error: Record<string, unknown> | undefined;
  /** What went wrong without an answer. */
  readonly failure?: string;
}

export function dataPath(key: string, query: Readonly<Record<string, string | number>> = {}): string {
  const q = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
  return `/data/${encodeURIComponent(key)}${q === '' ? '' : `?${q}`}`;
}

export function dataRequest(
  address: string,
  method: 'GET' | 'PUT' | 'DELETE',
  key: string,
  value?: Buffer | string,
  opts: { query?: Readonly<Record<string, string | number>>; timeoutMs?: number } = {},
): Promise<DataAnswer> {
  const [host, port] = splitAddress(address);
  const body = value === undefined ? undefined : Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
  return new Promise((resolve) => {
    let done = false;
    const finish = (a: DataAnswer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(a);
    };
    const req = http.request({
      host,
      port,
      method,
      path: dataPath(key, opts.query),
      agent: false,
      headers: body === undefined ? {} : { 'content-type': 'application/octet-stream', 'content-length': body.length },
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish({ status: 0, bytes: Buffer.alloc(0), code: undefined, error: undefined, failure: 'timeout' });
    }, opts.timeoutMs ?? 5_000);
    req.on('error', (e: NodeJS.ErrnoException) => finish({ status: 0, bytes: Buffer.alloc(0), code: undefined, error: undefined, failure: e.code ?? e.message }));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => finish({ status: 0, bytes: Buffer.alloc(0), code: undefined, error: undefined, failure: e.message }));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const status = res.statusCode ?? 0;
        let error: Record<string, unknown> | undefined;
        if (status >= 400 && String(res.headers['content-type'] ?? '').includes('json')) {
          try {
            error = (JSON.parse(bytes.toString('utf8')) as { error?: Record<string, unknown> }).error;
          } catch {
            /* not JSON after all */
          }
        }
        finish({ status, bytes, code: typeof error?.['code'] === 'string' ? error['code'] : undefined, error });
      });
    });
    req.end(body);
  });
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

/** A one-line account of an answer, for assertion messages. */
export function describeAnswer(a: DataAnswer): string {
  if (a.status === 0) return `no answer (${a.failure ?? '?'})`;
  return `${a.status} ${a.error === undefined ? `${a.bytes.length} bytes` : JSON.stringify(a.error)}`;
}
