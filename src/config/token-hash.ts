/**
 * API tokens and their stored form. A token is `<name>.<secret>`: the name
 * picks the one entry to check, so a request costs one scrypt, however many
 * tokens the file lists. The file keeps `scrypt$<salt>$<hash>` (base64url),
 * never the secret; checking compares in constant time.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const SECRET_BYTES = 32;
/** scrypt's defaults (N=16384, r=8, p=1): some tens of ms per check, on a worker thread; results are cached by the server. */
const SCRYPT_OPTIONS = { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export const TOKEN_HASH_PATTERN = /^scrypt\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/;
/** A token as clients send it: an id-like name, a dot, and the secret. */
export const TOKEN_PATTERN = /^([A-Za-z0-9][A-Za-z0-9_-]{0,63})\.([A-Za-z0-9_-]{16,128})$/;

function derive(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(secret, salt, KEY_BYTES, SCRYPT_OPTIONS, (err, key) => (err ? reject(err) : resolve(key))));
}

/** A new token for `name` and the hash the cluster file keeps. */
export async function createToken(name: string): Promise<{ token: string; hash: string }> {
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  const token = `${name}.${secret}`;
  return { token, hash: await hashToken(token) };
}

export async function hashToken(token: string, salt = randomBytes(SALT_BYTES)): Promise<string> {
  return `scrypt$${salt.toString('base64url')}$${(await derive(token, salt)).toString('base64url')}`;
}

/** Whether `token` is the one `hash` was made from (a malformed hash never matches). */
export async function tokenMatches(token: string, hash: string): Promise<boolean> {
  if (!TOKEN_HASH_PATTERN.test(hash)) return false;
  const [, saltText = '', keyText = ''] = hash.split('$');
  const expected = Buffer.from(keyText, 'base64url');
  const actual = await derive(token, Buffer.from(saltText, 'base64url'));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The name part of a well-formed token, or undefined. */
export function tokenName(token: string): string | undefined {
  return TOKEN_PATTERN.exec(token)?.[1];
}
