/**
 * Checks `Authorization: Bearer <token>` against the cluster file's tokens.
 * The internal token is compared by digest in constant time; an API token
 * names its entry (`<name>.<secret>`) and is checked with one scrypt, on
 * libuv's thread pool, never on the event loop that runs Raft. Successful
 * checks are remembered (bounded, by SHA-256 of the token) so the data path
 * does not pay scrypt per request; at most MAX_CONCURRENT_CHECKS run at a
 * time and at most MAX_WAITING_CHECKS wait, beyond which a request is
 * answered 429 instead of queuing CPU work an attacker chose.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { hashToken, tokenMatches, tokenName, type AuthSettings, type TokenEntry } from '../../config/index.js';
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';
import { INTERNAL_PRINCIPAL, type Principal, type RequestAuth } from './principal.js';

const MAX_CACHED = 1_024;
const MAX_CONCURRENT_CHECKS = 2;
const MAX_WAITING_CHECKS = 64;
/** A bearer header longer than this is not a token of ours. */
const MAX_HEADER_CHARS = 512;

export interface AuthenticatorOptions {
  readonly tokens: readonly TokenEntry[];
  /** The secret of the cluster's own processes. */
  readonly internalToken: string;
  readonly openMetrics: boolean;
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

export class Authenticator {
  readonly openMetrics: boolean;
  private readonly internalDigest: Buffer;
  private readonly byName: Map<string, TokenEntry>;
  /** SHA-256 of a token that matched (hex) → its principal; insertion order is age. */
  private readonly verified = new Map<string, Principal>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** A hash no token matches: an unknown name costs the same scrypt as a known one. */
  private decoy: Promise<string> | undefined;

  constructor(options: AuthenticatorOptions) {
    this.openMetrics = options.openMetrics;
    this.internalDigest = digest(options.internalToken);
    this.byName = new Map(options.tokens.map((t) => [t.name, t]));
  }

  /** The request's authentication; never throws for bad credentials (they become `principal: null`), only OVERLOADED. */
  async authenticate(header: string | string[] | undefined): Promise<RequestAuth> {
    if (header === undefined) return { enforced: true, principal: null, failure: 'no credentials: send Authorization: Bearer <token>' };
    const text = Array.isArray(header) ? header.join(',') : header;
    const match = /^Bearer ([^\s,]+)$/i.exec(text.slice(0, MAX_HEADER_CHARS + 8));
    if (match === null || text.length > MAX_HEADER_CHARS) return { enforced: true, principal: null, failure: 'malformed Authorization header: expected Bearer <token>' };
    const token = match[1] ?? '';
    const principal = await this.check(token);
    if (principal === null) return { enforced: true, principal: null, failure: 'the token is not valid' };
    return { enforced: true, principal, authorization: text };
  }

  private async check(token: string): Promise<Principal | null> {
    const tokenDigest = digest(token);
    if (timingSafeEqual(tokenDigest, this.internalDigest)) return INTERNAL_PRINCIPAL;
    const key = tokenDigest.toString('hex');
    const known = this.verified.get(key);
    if (known !== undefined) return known;
    const name = tokenName(token);
    const entry = name === undefined ? undefined : this.byName.get(name);
    const hash = entry?.hash ?? (await (this.decoy ??= hashToken('decoy.decoy-never-a-token')));
    const matches = await this.bounded(() => tokenMatches(token, hash));
    if (!matches || entry === undefined) return null;
    const principal: Principal = { name: entry.name, role: entry.role, internal: false };
    if (this.verified.size >= MAX_CACHED) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(key, principal);
    return principal;
  }

  private async bounded<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= MAX_CONCURRENT_CHECKS) {
      if (this.waiting.length >= MAX_WAITING_CHECKS) {
        throw new ClusterError({ code: ClusterErrorCode.Overloaded, retryAfterMs: 100 }, 'too many token checks in progress; retry shortly');
      }
      // The slot is handed over by the check that ends (running stays counted).
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.running--;
      else next();
    }
  }
}
