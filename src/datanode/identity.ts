/**
 * The node's identity token: random, created once per data directory, so the
 * coordinators can tell a restart of this node (same token) from a second
 * process started with the same id on another directory (refused).
 */
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { StorageError, StorageErrorCode, syncDir } from '../storage/index.js';

const TOKEN = /^[0-9a-f]{32}$/;
/** Whoever reads the token can register as this node: only its owner may. */
const OWNER_ONLY = 0o600;
const NOT_OWNER_BITS = 0o077;


/**
 * Reads `<dir>/identity`, or creates it (128 random bits as hex, mode 0600,
 * fsynced with its directory entry). One readable by others is refused.
 */
export async function loadOrCreateIdentity(dir: string): Promise<string> {
  const file = path.join(dir, 'identity');
  let text: string | undefined;
  try {
    const handle = await open(file, 'r');
    try {
      const { mode } = await handle.stat();
      if ((mode & NOT_OWNER_BITS) !== 0) {
        throw new StorageError(
          StorageErrorCode.InsecurePermissions,
          `${file} is open to others than its owner (mode ${(mode & 0o777).toString(8).padStart(3, '0')}): whoever reads it can register as this node; refusing to start: run chmod 600 ${file}`,
          { dataDir: dir },
        );
      }
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (text !== undefined) {
    const token = text.trim();
    if (!TOKEN.test(token)) {
      throw new StorageError(
        StorageErrorCode.CorruptRecord,
        `${file} does not hold an identity token (32 hex digits); refusing to start: restore it, or wipe the directory to start this node afresh`,
        { dataDir: dir },
      );
    }
    return token;
  }
  const token = randomBytes(16).toString('hex');
  const handle = await open(file, 'wx', OWNER_ONLY);
  try {
    await handle.writeFile(`${token}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await syncDir(dir);
  return token;
}
