import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator } from '../../src/api/auth/index.js';
import { authSchema, createToken, formatZodIssues, loadInternalToken, tokenMatches, writeInternalToken } from '../../src/config/index.js';
import { torua } from '../support/run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'torua-auth-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('tokens', () => {
  it('a token matches its own hash only; the hash is salted (two hashes of one token differ)', async () => {
    const a = await createToken('alice');
    const b = await createToken('alice');
    expect(a.token).toMatch(/^alice\.[A-Za-z0-9_-]{43}$/);
    expect(a.hash).not.toBe(b.hash);
    expect(await tokenMatches(a.token, a.hash)).toBe(true);
    expect(await tokenMatches(b.token, a.hash)).toBe(false);
    expect(await tokenMatches(`${a.token}x`, a.hash)).toBe(false);
    expect(await tokenMatches(a.token, 'scrypt$bad$hash')).toBe(false);
  });

  it('`torua token create` prints one JSON line whose token matches its hash; a bad role is a usage error', async () => {
    const made = await torua('token', 'create', '--name', 'ops', '--role', 'operator');
    expect(made.code).toBe(0);
    expect(made.out.trim().split('\n')).toHaveLength(1);
    const line = JSON.parse(made.out) as { name: string; role: string; token: string; hash: string };
    expect(line).toMatchObject({ name: 'ops', role: 'operator' });
    expect(await tokenMatches(line.token, line.hash)).toBe(true);
    expect(authSchema.safeParse({ tokens: [{ name: line.name, role: line.role, hash: line.hash }], internalTokenFile: 'x' }).success).toBe(true);
    const bad = await torua('token', 'create', '--name', 'ops', '--role', 'root');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--role: expected one of reader, writer, operator, admin/);
  });

  it('the auth section names the field of every problem', () => {
    const parsed = authSchema.safeParse({ tokens: [{ name: 'a', role: 'boss', hash: 'plain' }, { name: 'a', role: 'reader', hash: `scrypt$${'a'.repeat(22)}$${'b'.repeat(43)}` }], internalTokenFile: '' });
    expect(parsed.success).toBe(false);
    const lines = formatZodIssues(parsed.error!.issues, {});
    expect(lines.some((l) => l.startsWith('tokens[0].role:'))).toBe(true);
    expect(lines.some((l) => l.startsWith('tokens[0].hash:'))).toBe(true);
    expect(lines.some((l) => l.startsWith('internalTokenFile:'))).toBe(true);
  });
});

describe('the internal token file', () => {
  it('is written 0600, never over an existing file, and read relative to the cluster file', async () => {
    const file = path.join(dir, 'internal.token');
    await writeInternalToken(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await expect(writeInternalToken(file)).rejects.toThrow(/EEXIST/);
    const token = await loadInternalToken(path.join(dir, 'cluster.json'), { tokens: [], internalTokenFile: 'internal.token', openMetrics: false });
    expect(token.length).toBeGreaterThanOrEqual(32);
    const auth = new Authenticator({ tokens: [], internalToken: token, openMetrics: false });
    expect(await auth.authenticate(`Bearer ${token}`)).toMatchObject({ principal: { name: 'internal', internal: true } });
    expect(await auth.authenticate(`Bearer ${token}x`)).toMatchObject({ principal: null });
  });

  it('is refused when others can read it, or when it is too short', async () => {
    const file = path.join(dir, 'open.token');
    await writeFile(file, 'x'.repeat(40));
    await chmod(file, 0o644);
    const settings = { tokens: [], internalTokenFile: 'open.token', openMetrics: false };
    await expect(loadInternalToken(path.join(dir, 'cluster.json'), settings)).rejects.toThrow(/readable by others \(mode 644\): chmod 600/);
    await chmod(file, 0o600);
    await writeFile(file, 'short');
    await expect(loadInternalToken(path.join(dir, 'cluster.json'), settings)).rejects.toThrow(/32 to 512 printable characters/);
  });
});
