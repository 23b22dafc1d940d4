import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateIdentity } from '../../src/datanode/identity.js';
import { StorageError, StorageErrorCode } from '../../src/storage/index.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'torua-identity-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the node identity file', () => {
  it('is created readable by its owner only, and read back unchanged', async () => {
    const dir = tempDir();
    const token = await loadOrCreateIdentity(dir);
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(statSync(path.join(dir, 'identity')).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateIdentity(dir)).toBe(token);
  });

  it.each([0o644, 0o640, 0o604, 0o660])('is refused when its mode is %o, naming the file and the fix', async (mode) => {
    const dir = tempDir();
    const file = path.join(dir, 'identity');
    writeFileSync(file, `${'a'.repeat(32)}\n`);
    chmodSync(file, mode);
    const err = await loadOrCreateIdentity(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe(StorageErrorCode.InsecurePermissions);
    expect((err as StorageError).message).toContain(`chmod 600 ${file}`);
    // Refused, not repaired behind the operator's back.
    expect(statSync(file).mode & 0o777).toBe(mode);
  });

  it('refuses a file that holds no token', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'identity'), 'not a token\n', { mode: 0o600 });
    await expect(loadOrCreateIdentity(dir)).rejects.toMatchObject({ code: StorageErrorCode.CorruptRecord });
  });
});
