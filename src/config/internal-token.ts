/**
 * The internal token: the secret the cluster's own processes show each
 * other when the cluster file has `auth`. It lives in its own file, next to
 * the cluster file, readable by its owner only (like an SSH key): a file
 * others can read is refused, so a leaked copy is not silently accepted.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, ConfigErrorCode } from '../errors/index.js';
import type { AuthSettings } from './auth.js';

/** Environment variable a process not started from a cluster file reads the internal token from. */
export const INTERNAL_TOKEN_ENV = 'TORUA_INTERNAL_TOKEN';
const MIN_TOKEN_CHARS = 32;
const MAX_TOKEN_CHARS = 512;

function unreadable(file: string, reason: string): ConfigError {
  return new ConfigError({ code: ConfigErrorCode.ReadFailed, file, reason }, `${file}: cannot use the internal token file: ${reason}`);
}

/** Checks a token's text (from a file or the environment); throws naming `source`. */
export function checkedInternalToken(text: string, source: string): string {
  const token = text.trim();
  if (token.length < MIN_TOKEN_CHARS || token.length > MAX_TOKEN_CHARS || !/^[\x21-\x7e]+$/.test(token)) {
    throw unreadable(source, `expected ${MIN_TOKEN_CHARS} to ${MAX_TOKEN_CHARS} printable characters without spaces (\`torua token internal --out FILE\` makes one)`);
  }
  return token;
}

/** The internal token of a cluster file's `auth`, read from `internalTokenFile` (relative to the cluster file). */
export async function loadInternalToken(clusterFilePath: string, auth: AuthSettings): Promise<string> {
  const file = path.resolve(path.dirname(clusterFilePath), auth.internalTokenFile);
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (e) {
    throw unreadable(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message);
  }
  if ((mode & 0o077) !== 0) throw unreadable(file, `it is readable by others (mode ${(mode & 0o777).toString(8)}): chmod 600 it`);
  return checkedInternalToken(await readFile(file, 'utf8'), file);
}

/** Writes a new internal token to `file`, created 0600; refuses to overwrite one. */
export async function writeInternalToken(file: string): Promise<void> {
  const handle = await open(file, 'wx', 0o600);
  try {
    await handle.writeFile(`${randomBytes(32).toString('base64url')}\n`);
  } finally {
    await handle.close();
  }
}
