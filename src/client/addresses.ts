import { webOrigin } from '../tls/web.js';

/**
 * Coordinator addresses as the cluster file, `--coordinators` and NOT_LEADER
 * hints spell them: `host:port` (`[v6]:port` for IPv6). A URL with http://
 * is accepted too, so a user can paste what `torua cluster up` prints.
 */
export interface CoordinatorAddress {
  /** `host:port`: the key the client knows a replica by. */
  readonly address: string;
  /** `http://host:port`, or `https://host:port` in a process set up with certificates (installProcessTls). */
  readonly origin: string;
}

export function parseAddress(text: string): CoordinatorAddress {
  const trimmed = text.trim().replace(/\/+$/, '');
  const bare = trimmed.replace(/^https?:\/\//i, '');
  const match = /^(\[[0-9a-f:.]+\]|[^\s:/[\]]+):(\d{1,5})$/i.exec(bare);
  const port = Number(match?.[2]);
  if (match === null || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new TypeError(`torua client: expected a coordinator address "host:port", got ${JSON.stringify(text)}`);
  }
  const address = `${match[1]}:${port}`;
  return { address, origin: webOrigin(address) };
}

/** Parsed and deduplicated, in the order given (the first is tried first). */
export function parseAddresses(texts: readonly string[]): string[] {
  if (texts.length === 0) throw new TypeError('torua client: expected at least one coordinator address');
  return [...new Set(texts.map((t) => parseAddress(t).address))];
}

/** The address of `${host}:${port}` as this module spells it (IPv6 in brackets). */
export function joinAddress(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}
