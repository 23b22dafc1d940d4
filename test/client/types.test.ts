/**
 * The router's types reach a user of the client: fixtures/typed-usage.ts
 * compiles clean under `tsc --noEmit` (so each of its wrong inputs, marked
 * @ts-expect-error, is a compile error), and a right input marked so is
 * reported (so a clean compile is not vacuous).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '../..');
const tsc = path.join(repo, 'node_modules/typescript/bin/tsc');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torua-types-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Compiles the fixtures with the project's compiler options; resolves with tsc's exit code and output. */
async function compile(fixtures: readonly string[]): Promise<{ code: number; output: string }> {
  const { compilerOptions } = JSON.parse(fs.readFileSync(path.join(repo, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
  const { outDir: _o, rootDir: _r, declaration: _d, sourceMap: _s, ...options } = compilerOptions;
  const config = path.join(tmp, 'tsconfig.json');
  const typeRoots = [path.join(repo, 'node_modules/@types')];
  const files = fixtures.map((f) => path.join(import.meta.dirname, 'fixtures', f));
  fs.writeFileSync(config, JSON.stringify({ compilerOptions: { ...options, noEmit: true, typeRoots }, files }));
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [tsc, '-p', config, '--pretty', 'false'], { cwd: repo });
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

describe('the client exposes the router types', () => {
  it('wrong inputs, procedures and fields are compile errors; right ones compile; the check has teeth', { timeout: 60_000 }, async () => {
    const { code, output } = await compile(['typed-usage.ts', 'unused-directive.ts']);
    // The one error: a right input under @ts-expect-error (so a clean typed-usage.ts is not vacuous).
    const errors = output.trim().split('\n').filter((l) => /error TS\d+/.test(l));
    expect(errors, output).toHaveLength(1);
    expect(errors[0]).toMatch(/unused-directive\.ts\(\d+,\d+\): error TS2578: Unused '@ts-expect-error' directive/);
    expect(code).not.toBe(0);
    const directives = fs.readFileSync(path.join(import.meta.dirname, 'fixtures/typed-usage.ts'), 'utf8').match(/@ts-expect-error/g) ?? [];
    expect(directives.length).toBeGreaterThanOrEqual(9);
  });
});
