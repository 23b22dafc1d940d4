/** A failed exchange that got no answer, in words: "connection refused", "connection reset", "bad port". */

const NETWORK_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
  ETIMEDOUT: 'connect timeout',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'unknown host (DNS)',
};

/** The first errno-style code in an error's cause chain (undici wraps the socket's error in `TypeError: fetch failed`). */
function networkCodeOf(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The message of the innermost cause: undici's "fetch failed" says nothing, its cause ("bad port", …) does. */
function rootMessageOf(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 6; depth++) {
    const cause = (current as { cause?: unknown } | null)?.cause;
    if (!(cause instanceof Error)) break;
    current = cause;
  }
  return current instanceof Error ? current.message : String(current);
}

/** A failure without a tRPC answer, in words: "connection refused", "connection reset", "bad port". */
export function describeTransportFailure(err: unknown): string {
  const code = networkCodeOf(err);
  if (code !== undefined) return NETWORK_CODES[code] ?? code.toLowerCase().replace(/_/g, ' ');
  return rootMessageOf(err);
}
